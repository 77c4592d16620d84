// The cgroup2 device filter as runc builds it: OCI rules (plus runc's default allow-list) run through a
// devices-cgroup v1 emulator, then compiled to a BPF_PROG_TYPE_CGROUP_DEVICE program, default deny.
import type { LinuxDeviceCgroup } from '../../oci';
import { BPF_DEVCG_ACC, BPF_DEVCG_DEV } from '../../linux/constants';
import { asm, encode, type Insn } from './bpf';

// -1 is the wildcard major/minor, as in runc's devices.Rule.
export const WILDCARD = -1;

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

// linux.resources.devices in runc's specconv terms: type defaults to "a", major/minor to the wildcard,
// and an empty access is an error. The caller has already appended runc's defaults (cgroups/devices.ts).
export function rulesFromSpec(devices: LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  const out: DeviceRule[] = [];
  (devices ?? []).forEach((d, i) => {
    const field = `linux.resources.devices[${i}]`;
    if (!d.access) throw new Error(`${field}.access: must not be empty`);
    if (!/^[rwm]+$/.test(d.access)) throw new Error(`${field}.access: must be a combination of r, w and m: ${JSON.stringify(d.access)}`);
    const type = d.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new Error(`${field}.type: must be a, b or c: ${JSON.stringify(type)}`);
    out.push({ type, major: d.major ?? WILDCARD, minor: d.minor ?? WILDCARD, access: d.access, allow: d.allow });
  });
  return out;
}

const perms = (s: string) => new Set(s.split('').filter((c) => 'rwm'.includes(c)));
const permString = (p: Set<string>) => ['r', 'w', 'm'].filter((c) => p.has(c)).join('');

// The devices cgroup v1 semantics runc's emulator has: "a" resets the default, other rules add or remove
// exceptions. Removing part of a wildcard exception is refused, as v1 would silently ignore it.
export class DeviceEmulator {
  defaultAllow = false;
  private rules = new Map<string, { type: 'b' | 'c'; major: number; minor: number; perms: Set<string> }>();

  apply(r: DeviceRule): void {
    if (r.type === 'a') {
      this.defaultAllow = r.allow;
      this.rules.clear();
      return;
    }
    if (r.allow === this.defaultAllow) this.remove(r);
    else this.add(r);
  }

  private key(type: string, major: number, minor: number): string {
    return `${type} ${major}:${minor}`;
  }

  private add(r: DeviceRule): void {
    const k = this.key(r.type, r.major, r.minor);
    const cur = this.rules.get(k);
    const p = perms(r.access);
    if (cur) for (const c of cur.perms) p.add(c);
    this.rules.set(k, { type: r.type as 'b' | 'c', major: r.major, minor: r.minor, perms: p });
  }

  private remove(r: DeviceRule): void {
    const want = perms(r.access);
    const partials: [number, number][] = [
      [WILDCARD, r.minor],
      [r.major, WILDCARD],
      [WILDCARD, WILDCARD],
    ];
    for (const [major, minor] of partials) {
      if (major === r.major && minor === r.minor) continue;
      const wild = this.rules.get(this.key(r.type, major, minor));
      if (wild && [...want].some((c) => wild.perms.has(c))) {
        const show = (a: number, b: number) => `${r.type} ${a < 0 ? '*' : a}:${b < 0 ? '*' : b}`;
        throw new Error(
          `device rule ${show(r.major, r.minor)} ${r.access} cannot be applied: it would punch a hole in the wildcard rule ${show(major, minor)} ${permString(wild.perms)}`,
        );
      }
    }
    const k = this.key(r.type, r.major, r.minor);
    const cur = this.rules.get(k);
    if (!cur) return;
    for (const c of want) cur.perms.delete(c);
    if (cur.perms.size === 0) this.rules.delete(k);
  }

  // The exceptions to the default, ordered by (major, minor, type) as runc orders them.
  exceptions(): DeviceRule[] {
    return [...this.rules.values()]
      .sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
      .map((e) => ({ type: e.type, major: e.major, minor: e.minor, access: permString(e.perms), allow: !this.defaultAllow }));
  }
}

// Registers: R1 is the context (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }),
// R2 = device type (low 16 bits of access_type), R3 = access (high 16 bits), R4 = major, R5 = minor.
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;
const ALL_ACCESS = BPF_DEVCG_ACC.READ | BPF_DEVCG_ACC.WRITE | BPF_DEVCG_ACC.MKNOD;

export interface DeviceProgram {
  insns: Insn[];
  bytes: Buffer;
  defaultAllow: boolean;
}

export function buildDeviceProgram(rules: DeviceRule[]): DeviceProgram {
  const emu = new DeviceEmulator();
  for (const r of rules) emu.apply(r);
  const insns: Insn[] = [
    asm.loadWord(R2, R1, 0),
    asm.and32(R2, 0xffff),
    asm.loadWord(R3, R1, 0),
    asm.rsh32(R3, 16),
    asm.loadWord(R4, R1, 4),
    asm.loadWord(R5, R1, 8),
  ];
  let block = 0;
  for (const r of emu.exceptions()) {
    const next = `block-${block + 1}`;
    const first = insns.length;
    insns.push(asm.jneImm(R2, r.type === 'c' ? BPF_DEVCG_DEV.CHAR : BPF_DEVCG_DEV.BLOCK, next));
    let access = 0;
    for (const c of r.access) access |= c === 'r' ? BPF_DEVCG_ACC.READ : c === 'w' ? BPF_DEVCG_ACC.WRITE : BPF_DEVCG_ACC.MKNOD;
    // The request's access bits must all be in the rule's: (R3 & access) == R3. Skipped for rwm.
    if (access !== ALL_ACCESS) insns.push(asm.mov32Reg(R1, R3), asm.and32(R1, access), asm.jneReg(R1, R3, next));
    if (r.major >= 0) insns.push(asm.jneImm(R4, r.major | 0, next));
    if (r.minor >= 0) insns.push(asm.jneImm(R5, r.minor | 0, next));
    insns.push(asm.mov32(R0, r.allow ? 1 : 0), asm.exit());
    insns[first].label = `block-${block}`;
    block++;
  }
  const last = asm.mov32(R0, emu.defaultAllow ? 1 : 0);
  last.label = `block-${block}`;
  insns.push(last, asm.exit());
  return { insns, bytes: encode(insns), defaultAllow: emu.defaultAllow };
}
