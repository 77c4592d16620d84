// v1 devices controller: devices.allow/devices.deny driven by an emulator of the kernel's exception list,
// as runc 1.1 does, so that only the difference between the current and the wanted state is written.
// Owns the emulator: a default (allow or deny) plus exceptions keyed by type:major:minor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxDeviceCgroup } from '../../oci';
import { R, writeValue, type Controller } from './fs';

const WILD = -1;
type Perms = number; // bit set: r=1, w=2, m=4

const toPerms = (s: string): Perms => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('m') ? 4 : 0);
const permString = (p: Perms): string => `${p & 1 ? 'r' : ''}${p & 2 ? 'w' : ''}${p & 4 ? 'm' : ''}`;

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  perms: Perms;
  allow: boolean;
}

const key = (t: string, major: number, minor: number) => `${t} ${major} ${minor}`;

export const ruleString = (r: DeviceRule): string =>
  `${r.type} ${r.major === WILD ? '*' : r.major}:${r.minor === WILD ? '*' : r.minor} ${permString(r.perms)}`;

export class Emulator {
  defaultAllow = false;
  rules = new Map<string, { type: 'a' | 'b' | 'c'; major: number; minor: number; perms: Perms }>();

  apply(r: DeviceRule): void {
    // A type "a" rule resets the whole list whatever its numbers and permissions, as the kernel does.
    if (r.type === 'a') {
      this.defaultAllow = r.allow;
      this.rules.clear();
      return;
    }
    // An exception is an allow in deny-by-default mode and a deny in allow-by-default mode.
    if (r.allow !== this.defaultAllow) this.add(r);
    else this.remove(r);
  }

  private add(r: DeviceRule): void {
    const k = key(r.type, r.major, r.minor);
    const cur = this.rules.get(k);
    this.rules.set(k, { type: r.type, major: r.major, minor: r.minor, perms: (cur?.perms ?? 0) | r.perms });
  }

  private remove(r: DeviceRule): void {
    // The kernel silently ignores removing part of a wildcard exception; refuse it, as runc does,
    // rather than leave access that the config meant to take away.
    for (const [maj, min] of [[WILD, r.minor], [r.major, WILD], [WILD, WILD]]) {
      if (maj === r.major && min === r.minor) continue;
      const w = this.rules.get(key(r.type, maj, min));
      if (w && w.perms & r.perms) {
        throw new Error(`requested rule ${ruleString(r)} not supported by devices cgroupv1 (cannot punch hole in existing wildcard rule ${ruleString({ ...w, allow: true })})`);
      }
    }
    const k = key(r.type, r.major, r.minor);
    const cur = this.rules.get(k);
    if (!cur) return;
    const left = cur.perms & ~r.perms;
    if (left) cur.perms = left;
    else this.rules.delete(k);
  }

  // Sorted by major, minor, type (wildcards first), so the same state always gives the same writes.
  ordered() {
    return [...this.rules.values()].sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  // devices.list: the allow list; "a *:* rwm" alone means allow-by-default (its denies are invisible).
  static fromList(text: string): Emulator {
    const e = new Emulator();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
      if (!m) throw new Error(`devices.list: cannot parse ${JSON.stringify(line)}`);
      const num = (s: string) => (s === '*' ? WILD : Number(s));
      e.apply({ type: m[1] as 'a' | 'b' | 'c', major: num(m[2]), minor: num(m[3]), perms: toPerms(m[4]), allow: true });
    }
    return e;
  }

  static fromRules(rules: DeviceRule[]): Emulator {
    const e = new Emulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  // The writes that take this state to target. From allow-by-default (whose denies cannot be read)
  // or to a different default, a full reset comes first.
  transition(target: Emulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.rules;
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: WILD, minor: WILD, perms: 7, allow: target.defaultAllow });
      old = new Map();
    }
    for (const r of [...old.values()].sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
      const dropped = r.perms & ~(target.rules.get(key(r.type, r.major, r.minor))?.perms ?? 0);
      if (dropped) out.push({ ...r, perms: dropped, allow: target.defaultAllow });
    }
    for (const r of target.ordered()) {
      const gained = r.perms & ~(old.get(key(r.type, r.major, r.minor))?.perms ?? 0);
      if (gained) out.push({ ...r, perms: gained, allow: !target.defaultAllow });
    }
    return out;
  }
}

export function toDeviceRules(list: LinuxDeviceCgroup[]): DeviceRule[] {
  return list.map((d, i) => {
    if (!d.access) throw new Error(`${R}.devices[${i}].access: device access at ${i} field cannot be empty`);
    return { type: d.type ?? 'a', major: d.major ?? WILD, minor: d.minor ?? WILD, perms: toPerms(d.access), allow: d.allow };
  });
}

// runc skips the read-back check in its unit tests too: a fake devices.list does not follow the writes.
export const deviceOptions = { finalCheck: true };

export const devices: Controller = {
  name: 'devices',
  requested: (r) => (r.devices ? [`${R}.devices`] : []),
  set(dir, r) {
    // undefined: leave the rules alone (update never changes them, as runc's SkipDevices).
    if (!r.devices) return;
    const target = Emulator.fromRules(toDeviceRules(r.devices));
    const current = Emulator.fromList(fs.readFileSync(path.join(dir, 'devices.list'), 'utf8'));
    for (const rule of current.transition(target)) {
      writeValue(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleString(rule), `${R}.devices`);
    }
    if (!deviceOptions.finalCheck) return;
    const after = Emulator.fromList(fs.readFileSync(path.join(dir, 'devices.list'), 'utf8'));
    const same = after.defaultAllow === target.defaultAllow && (target.defaultAllow || after.ordered().map((x) => ruleString({ ...x, allow: true })).join() === target.ordered().map((x) => ruleString({ ...x, allow: true })).join());
    if (!same) throw new Error(`${R}.devices: resulting devices cgroup doesn't precisely match target`);
  },
};
