// Tests for the generated syscall tables: known numbers on every arch, and the x86 tables
// checked line by line against the host's own headers when the machine has them.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH, type SeccompArch, SYSCALLS } from '../../src/seccomp/syscalls.generated';

const B = 0x40000000;
const ARCHES: SeccompArch[] = ['x86_64', 'x86', 'x32', 'aarch64', 'arm'];

describe('syscall tables', () => {
  // [name, x86_64, x86, x32, aarch64, arm]; undefined: the arch has no such syscall.
  const known: [string, ...(number | undefined)[]][] = [
    ['read', 0, 3, B + 0, 63, 3],
    ['write', 1, 4, B + 1, 64, 4],
    ['openat', 257, 295, B + 257, 56, 322],
    ['open', 2, 5, B + 2, undefined, 5],
    ['getpid', 39, 20, B + 39, 172, 20],
    ['clone', 56, 120, B + 56, 220, 120],
    ['clone3', 435, 435, B + 435, 435, 435],
    ['unshare', 272, 310, B + 272, 97, 337],
    ['personality', 135, 136, B + 135, 92, 136],
    ['keyctl', 250, 288, B + 250, 219, 311],
    ['mount', 165, 21, B + 165, 40, 21],
    ['socketcall', undefined, 102, undefined, undefined, undefined],
    ['mmap2', undefined, 192, undefined, undefined, 192],
    ['newfstatat', 262, undefined, B + 262, 79, undefined],
    ['fstatat64', undefined, 300, undefined, undefined, 327],
    // x32's own entry points for calls whose 64-bit ABI takes pointers to differently sized structs.
    ['rt_sigaction', 13, 174, B + 512, 134, 174],
    ['execve', 59, 11, B + 520, 221, 11],
    ['execveat', 322, 358, B + 545, 281, 387],
    ['set_mempolicy_home_node', 450, 450, B + 450, 450, 450],
    // ARM-private calls at __ARM_NR_BASE (0x0f0000) + n.
    ['cacheflush', undefined, undefined, undefined, undefined, 0xf0002],
    ['set_tls', undefined, undefined, undefined, undefined, 0xf0005],
    ['arm_fadvise64_64', undefined, undefined, undefined, undefined, 270],
  ];
  it.each(known)('%s', (name, ...nrs) => {
    ARCHES.forEach((arch, i) => expect([arch, SYSCALLS[arch][name]]).toEqual([arch, nrs[i]]));
  });

  it('has the audit arch of every arch, x32 sharing x86_64\'s', () => {
    expect(AUDIT_ARCH).toEqual({ x86_64: 0xc000003e, x86: 0x40000003, x32: 0xc000003e, aarch64: 0xc00000b7, arm: 0x40000028 });
  });

  it('numbers x32 calls with the x32 bit and no others', () => {
    for (const [name, nr] of Object.entries(SYSCALLS.x32)) expect([name, nr & B]).toEqual([name, B]);
    for (const arch of ARCHES.filter((a) => a !== 'x32')) {
      for (const [name, nr] of Object.entries(SYSCALLS[arch])) expect([arch, name, nr & B]).toEqual([arch, name, 0]);
    }
  });

  it('leaves out the 64-bit slots x32 has its own entry points for', () => {
    const x32 = new Set(Object.values(SYSCALLS.x32));
    for (const nr of [13, 15, 16, 19, 20, 45, 46, 47, 54, 55, 59]) expect(x32.has(B + nr)).toBe(false);
  });

  it('gives one number per name, distinct per arch (but arm\'s sync_file_range2 alias)', () => {
    for (const arch of ARCHES) {
      const t = SYSCALLS[arch];
      expect(Object.keys(t).length).toBeGreaterThan(280);
      for (const [name, nr] of Object.entries(t)) {
        expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
        expect(Number.isInteger(nr) && nr >= 0).toBe(true);
      }
      const dupes = Object.values(t).length - new Set(Object.values(t)).size;
      expect([arch, dupes]).toEqual([arch, arch === 'arm' ? 1 : 0]);
    }
    expect(SYSCALLS.arm.sync_file_range2).toBe(SYSCALLS.arm.arm_sync_file_range);
  });

  it('finds nothing for names that only exist on Object.prototype', () => {
    for (const arch of ARCHES) {
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        expect(SYSCALLS[arch][name]).toBeUndefined();
      }
      expect(Object.isFrozen(SYSCALLS[arch])).toBe(true);
    }
  });

  // An independent reading of the host's x86 headers (no preprocessor): same names, same numbers.
  const dir = '/usr/include/x86_64-linux-gnu/asm';
  const headers: [SeccompArch, string][] = [
    ['x86_64', 'unistd_64.h'],
    ['x86', 'unistd_32.h'],
    ['x32', 'unistd_x32.h'],
  ];
  it.runIf(existsSync(`${dir}/unistd_64.h`)).each(headers)('%s matches %s', (arch, file) => {
    const want: Record<string, number> = {};
    for (const m of readFileSync(`${dir}/${file}`, 'utf8').matchAll(/^#define __NR_(\w+)\s+(?:\(__X32_SYSCALL_BIT \+ )?(\d+)\)?$/gm)) {
      want[m[1]] = Number(m[2]) + (arch === 'x32' ? B : 0);
    }
    expect(Object.keys(want).length).toBeGreaterThan(300);
    expect({ ...SYSCALLS[arch] }).toEqual(want);
  });
});
