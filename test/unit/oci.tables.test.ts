// Tests for the exported constant tables: capability and rlimit numbering,
// checked against the kernel headers when the machine has them.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CAP_LAST_CAP,
  CAPABILITIES,
  CAPABILITY_NAMES,
  capabilityNumber,
  NAMESPACE_TYPES,
  RLIMITS,
  rlimitNumber,
} from '../../src/oci';

/** `#define NAME number` lines of a C header, filtered by prefix. */
function defines(file: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(file, 'utf8').matchAll(/^#\s*define\s+(\w+)\s+(\d+)\b/gm)) {
    if (m[1].startsWith(prefix)) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('capabilities', () => {
  it('runs from CAP_CHOWN = 0 to CAP_CHECKPOINT_RESTORE = 40', () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    expect(CAP_LAST_CAP).toBe(40);
    expect(CAPABILITIES.CAP_CHOWN).toBe(0);
    expect(CAPABILITIES.CAP_KILL).toBe(5);
    expect(CAPABILITIES.CAP_NET_BIND_SERVICE).toBe(10);
    expect(CAPABILITIES.CAP_SYS_ADMIN).toBe(21);
    expect(CAPABILITIES.CAP_AUDIT_WRITE).toBe(29);
    expect(CAPABILITIES.CAP_AUDIT_READ).toBe(37);
    expect(CAPABILITIES.CAP_PERFMON).toBe(38);
    expect(CAPABILITIES.CAP_BPF).toBe(39);
    expect(CAPABILITIES.CAP_CHECKPOINT_RESTORE).toBe(40);
    expect(new Set(CAPABILITY_NAMES).size).toBe(41);
  });

  it('looks names up without touching Object.prototype', () => {
    expect(capabilityNumber('CAP_MKNOD')).toBe(27);
    expect(capabilityNumber('toString')).toBeUndefined();
    expect(capabilityNumber('CAP_UNKNOWN')).toBeUndefined();
  });

  it('is frozen', () => {
    expect(Object.isFrozen(CAPABILITIES)).toBe(true);
    expect(Object.isFrozen(CAPABILITY_NAMES)).toBe(true);
  });

  const header = '/usr/include/linux/capability.h';
  it.skipIf(!existsSync(header))('matches linux/capability.h', () => {
    const kernel = defines(header, 'CAP_');
    for (const [i, name] of CAPABILITY_NAMES.entries()) expect([name, kernel.get(name)]).toEqual([name, i]);
  });
});

describe('rlimits', () => {
  it('has the 16 Linux resources', () => {
    expect(Object.keys(RLIMITS)).toHaveLength(16);
    expect(RLIMITS.RLIMIT_CPU).toBe(0);
    expect(RLIMITS.RLIMIT_NOFILE).toBe(7);
    expect(RLIMITS.RLIMIT_RTTIME).toBe(15);
    expect(rlimitNumber('RLIMIT_NPROC')).toBe(6);
    expect(rlimitNumber('RLIMIT_NLIMITS')).toBeUndefined();
    expect(rlimitNumber('constructor')).toBeUndefined();
  });

  const header = '/usr/include/asm-generic/resource.h';
  it.skipIf(!existsSync(header) || !['x64', 'arm64', 'arm', 'riscv64', 'ppc64', 's390x'].includes(process.arch))(
    'matches asm-generic/resource.h',
    () => {
      const kernel = defines(header, 'RLIMIT_');
      for (const [name, n] of Object.entries(RLIMITS)) expect([name, kernel.get(name)]).toEqual([name, n]);
    },
  );
});

describe('namespace types', () => {
  it('are the eight the spec names', () => {
    expect([...NAMESPACE_TYPES].sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  });
});
