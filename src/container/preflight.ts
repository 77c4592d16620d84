// Host facts a config depends on, checked by create before anything is made: SELinux and Intel RDT
// availability. Owns the warnings runc prints for settings it ignores (unknown capabilities, persona flags).
import * as fs from 'node:fs';
import type { Spec } from '../oci';
import { capabilityNumber } from '../oci';
import { warn } from '../log';

function mountedTypes(): Map<string, string> {
  const types = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const sep = line.indexOf(' - ');
      if (sep < 0) continue;
      const fstype = line.slice(sep + 3).split(' ')[0];
      if (!types.has(fstype)) types.set(fstype, line.split(' ')[4]);
    }
  } catch {
    /* no mountinfo: nothing is mounted as far as we can tell */
  }
  return types;
}

/**
 * go-selinux's GetEnabled: a mounted selinuxfs and a process label other than "kernel". With no
 * SELinux in the kernel, reading attr/current fails (EINVAL), which counts as disabled.
 */
export function selinuxEnabled(mounts = mountedTypes()): boolean {
  if (!mounts.has('selinuxfs')) return false;
  try {
    const label = fs.readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim();
    return label !== '' && label !== 'kernel';
  } catch {
    return false;
  }
}

// Read by the runtime (once per create or exec) and handed to the final stage: the init never reads it, since
// after the pivot a container whose /proc is a fake directory could claim a low value and keep capabilities
// in the bounding set.
export function lastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return 40;
  }
}

export interface HostLsm {
  selinux: boolean;
  resctrl: boolean;
  lastCap: number;
}

// Each fact is looked up only when a config asks about it: most ask about none but lastCap, and create
// must not read mountinfo for them. create hands lastCap on to the init.
export function hostLsm(): HostLsm {
  let mounts: Map<string, string> | undefined;
  let last: number | undefined;
  const types = () => (mounts ??= mountedTypes());
  return {
    get selinux() {
      return selinuxEnabled(types());
    },
    get resctrl() {
      return types().has('resctrl');
    },
    get lastCap() {
      return (last ??= lastCap());
    },
  };
}

/** Throws for settings this host cannot honour; warns, as runc does, for ones it ignores. */
export function preflight(spec: Spec, host: HostLsm = hostLsm()): void {
  const proc = spec.process;
  const linux = spec.linux ?? {};
  if (proc?.selinuxLabel && !host.selinux) {
    throw new Error('process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported');
  }
  // runc passes the label on as context= and the first mount then fails with EINVAL; saying why is kinder.
  if (linux.mountLabel && !host.selinux) {
    throw new Error('linux.mountLabel: selinux mount label is specified in config, but selinux is disabled or not supported');
  }
  const rdt = linux.intelRdt;
  if (rdt) {
    if (!host.resctrl) {
      if (rdt.l3CacheSchema) throw new Error('linux.intelRdt.l3CacheSchema: intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled');
      if (rdt.memBwSchema) throw new Error('linux.intelRdt.memBwSchema: intelRdt.memBwSchema is specified in config, but Intel RDT/MBA is not enabled');
      // runc 1.1 ignores the rest silently; the spec says the container joins a resctrl group, which cannot happen here.
      throw new Error('linux.intelRdt: intelRdt is specified in config, but Intel RDT is not supported or enabled');
    }
    throw new Error('linux.intelRdt: resctrl groups are not supported by ocirun yet');
  }

  const unavailable = new Set<string>();
  for (const set of Object.values(proc?.capabilities ?? {})) {
    for (const name of set ?? []) {
      const bit = capabilityNumber(name);
      if (bit !== undefined && bit > host.lastCap) unavailable.add(name);
    }
  }
  if (unavailable.size) warn(`ignoring unknown or unavailable capabilities: [${[...unavailable].join(' ')}]`);
  const flags = linux.personality?.flags ?? [];
  if (flags.length) warn(`ignoring unsupported personality flags: [${flags.join(' ')}] because personality flag has not supported at this time`);
}
