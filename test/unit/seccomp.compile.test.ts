// The seccomp compiler run through a classic-BPF interpreter: each operator, action and architecture,
// and a seeded property test against a straightforward evaluator of the profile (the rules in compile.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSeccomp, SECCOMP_FILTER_FLAG, SECCOMP_RET } from '../../src/seccomp/compile';
import { AUDIT_ARCH, SYSCALLS, type SeccompArch } from '../../src/seccomp/syscalls.generated';
import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSyscall } from '../../src/oci/spec';
import { PODMAN_PROFILE as CONTAINERS_SECCOMP, podmanSeccomp } from '../integration/helpers/podman-seccomp';

interface Data {
  nr: number;
  arch: number;
  args: bigint[]; // six u64
}

// struct seccomp_data, little endian.
function seccompData(d: Data): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, d.args[i] ?? 0n), 16 + 8 * i);
  return b;
}

// The kernel's checker and interpreter for what seccomp accepts, restricted to what a filter needs.
function run(prog: Buffer, d: Data): number {
  const data = seccompData(d);
  const n = prog.length / 8;
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(4096);
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= n; steps++) {
    expect(pc).toBeLessThan(n);
    const o = pc * 8;
    const code = prog.readUInt16LE(o);
    const jt = prog.readUInt8(o + 2);
    const jf = prog.readUInt8(o + 3);
    const k = prog.readUInt32LE(o + 4);
    pc++;
    switch (code) {
      case 0x20: // ld [k]
        expect(k % 4).toBe(0);
        expect(k).toBeLessThan(64);
        a = data.readUInt32LE(k);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x25:
        pc += a > k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06:
        return k >>> 0;
      default:
        throw new Error(`unexpected BPF opcode ${code.toString(16)} at ${pc - 1}`);
    }
  }
  throw new Error('program did not terminate');
}

// ---- the reference evaluator: the rules of compile.ts, written as plainly as possible ----

const TOKENS: Record<string, SeccompArch> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
};
const BITS32: SeccompArch[] = ['x86', 'arm'];
const M64 = (1n << 64n) - 1n;
const toU64 = (n: number) => (BigInt(n) > M64 ? M64 : BigInt.asUintN(64, BigInt(n)));

function ret(action: LinuxSeccompAction, errno: number | undefined): number {
  const e = (errno ?? 1) & 0xffff;
  return {
    SCMP_ACT_KILL: 0,
    SCMP_ACT_KILL_THREAD: 0,
    SCMP_ACT_KILL_PROCESS: 0x80000000,
    SCMP_ACT_TRAP: 0x30000,
    SCMP_ACT_ERRNO: 0x50000 + e,
    SCMP_ACT_TRACE: 0x7ff00000 + e,
    SCMP_ACT_ALLOW: 0x7fff0000,
    SCMP_ACT_LOG: 0x7ffc0000,
    SCMP_ACT_NOTIFY: 0x7fc00000,
  }[action];
}

function holds(arg: bigint, c: LinuxSeccompArg, narrow: boolean): boolean {
  let v = toU64(c.value);
  let v2 = toU64(c.valueTwo ?? 0);
  let x = BigInt.asUintN(64, arg);
  if (narrow) {
    v &= 0xffffffffn;
    v2 &= 0xffffffffn;
    x &= 0xffffffffn;
  }
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return x === v;
    case 'SCMP_CMP_NE':
      return x !== v;
    case 'SCMP_CMP_LT':
      return x < v;
    case 'SCMP_CMP_LE':
      return x <= v;
    case 'SCMP_CMP_GT':
      return x > v;
    case 'SCMP_CMP_GE':
      return x >= v;
    case 'SCMP_CMP_MASKED_EQ':
      return (x & v) === v2;
  }
}

function evaluate(p: LinuxSeccomp, host: SeccompArch, d: Data): number {
  const def = ret(p.defaultAction ?? 'SCMP_ACT_ALLOW', p.defaultErrnoRet);
  const listed = (p.architectures ?? []).map((t) => TOKENS[t]).filter((a) => a !== undefined);
  const inFilter = new Set([host, ...listed]);
  const nr = d.nr >>> 0;
  const largest = (a: SeccompArch) =>
    Math.max(0, ...(p.syscalls ?? []).flatMap((s) => s.names.map((n) => SYSCALLS[a][n] ?? 0)));
  // runc's -ENOSYS stub, in front of libseccomp's filter.
  const stub =
    !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(p.defaultAction ?? 'SCMP_ACT_ALLOW') &&
    p.defaultErrnoRet !== 38;
  if (stub) {
    let a: SeccompArch | undefined;
    if (d.arch === AUDIT_ARCH.x86_64) a = nr & 0x40000000 ? 'x32' : 'x86_64';
    else a = (['x86', 'aarch64', 'arm'] as SeccompArch[]).find((x) => AUDIT_ARCH[x] === d.arch);
    if (a && listed.includes(a) && largest(a) !== 0 && nr > largest(a)) return 0x50000 + 38;
  }
  let arch: SeccompArch | undefined;
  if (d.arch === AUDIT_ARCH.x86_64) arch = nr >= 0x40000000 ? 'x32' : 'x86_64';
  else arch = (['x86', 'aarch64', 'arm'] as SeccompArch[]).find((x) => AUDIT_ARCH[x] === d.arch);
  if (!arch || !inFilter.has(arch)) return SECCOMP_RET.KILL_THREAD;
  const narrow = BITS32.includes(arch);
  let unconditional: number | undefined;
  for (const s of p.syscalls ?? []) {
    if (!s.names.some((n) => SYSCALLS[arch][n] === nr && Object.hasOwn(SYSCALLS[arch], n))) continue;
    const r = ret(s.action, s.errnoRet);
    if (r === def) continue;
    const args = s.args ?? [];
    if (args.length === 0) {
      unconditional ??= r;
      continue;
    }
    const dup = new Set(args.map((c) => c.index)).size < args.length;
    const ok = dup
      ? args.some((c) => holds(d.args[c.index], c, narrow))
      : args.every((c) => holds(d.args[c.index], c, narrow));
    if (ok) return r;
  }
  return unconditional ?? def;
}

// ---- helpers ----

const X64 = AUDIT_ARCH.x86_64;
const nr64 = (n: string) => SYSCALLS.x86_64[n];
const call = (name: string, args: bigint[] = [], arch: SeccompArch = 'x86_64'): Data => ({
  nr: SYSCALLS[arch][name],
  arch: AUDIT_ARCH[arch],
  args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
});
const exec = (p: LinuxSeccomp, d: Data, host: SeccompArch = 'x86_64') => {
  const got = run(compileSeccomp(p, host).filter, d);
  expect(got).toBe(evaluate(p, host, d));
  return got;
};
const errno = (e: number) => SECCOMP_RET.ERRNO + e;

describe('seccomp compiler', () => {
  it('encodes every action with its SECCOMP_RET value', () => {
    const cases: [LinuxSeccompAction, number | undefined, number][] = [
      ['SCMP_ACT_KILL', undefined, 0],
      ['SCMP_ACT_KILL_THREAD', undefined, 0],
      ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
      ['SCMP_ACT_TRAP', undefined, 0x30000],
      ['SCMP_ACT_ERRNO', undefined, 0x50001],
      ['SCMP_ACT_ERRNO', 13, 0x5000d],
      ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
      ['SCMP_ACT_TRACE', 42, 0x7ff0002a],
      ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
      ['SCMP_ACT_NOTIFY', undefined, 0x7fc00000],
    ];
    for (const [action, errnoRet, want] of cases) {
      const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, errnoRet }] };
      expect(exec(p, call('getpid'))).toBe(want);
      expect(exec(p, call('getppid'))).toBe(SECCOMP_RET.ALLOW);
    }
    const d: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    expect(exec(d, call('getpid'))).toBe(errno(5));
    expect(exec(d, call('read'))).toBe(SECCOMP_RET.ALLOW);
  });

  it('sets flags, and NEW_LISTENER with a NOTIFY action', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    };
    expect(compileSeccomp(p)).toMatchObject({ flags: 2 | 4 | 32, notify: false });
    const n = compileSeccomp({ ...p, flags: [], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] });
    expect(n).toMatchObject({ flags: SECCOMP_FILTER_FLAG.NEW_LISTENER, notify: true });
  });

  it('compares 64-bit arguments with every operator, on both halves', () => {
    const big = 2 ** 32 + 5; // high word 1, low word 5
    const probes = [0n, 4n, 5n, 6n, 1n << 32n, (1n << 32n) + 4n, (1n << 32n) + 5n, (1n << 32n) + 6n, 2n << 32n, M64];
    const ops: LinuxSeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
    for (const op of ops) {
      const p: LinuxSeccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['lseek'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op, value: big }] }],
      };
      for (const x of probes) {
        const want = holds(x, { index: 1, op, value: big }, false);
        expect(exec(p, call('lseek', [3n, x])), `${op} ${x}`).toBe(want ? errno(1) : SECCOMP_RET.ALLOW);
      }
    }
    // MASKED_EQ: value is the mask, valueTwo the expected value (the spec's and runc's reading).
    const m: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 0xff, valueTwo: 8 }] }],
    };
    expect(exec(m, call('personality', [8n]))).toBe(errno(1));
    expect(exec(m, call('personality', [0x1008n]))).toBe(errno(1));
    expect(exec(m, call('personality', [(1n << 40n) + 8n]))).toBe(errno(1));
    expect(exec(m, call('personality', [9n]))).toBe(SECCOMP_RET.ALLOW);
    const hi: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 2 ** 33, valueTwo: 2 ** 33 }] }],
    };
    expect(exec(hi, call('personality', [1n << 33n]))).toBe(errno(1));
    expect(exec(hi, call('personality', [1n << 32n]))).toBe(SECCOMP_RET.ALLOW);
  });

  it('ANDs the conditions of a rule, ORs rules, and splits a rule naming one argument twice (runc)', () => {
    const and: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 1, op: 'SCMP_CMP_EQ', value: 9 }] }],
    };
    expect(exec(and, call('kill', [1n, 9n]))).toBe(errno(1));
    expect(exec(and, call('kill', [1n, 15n]))).toBe(SECCOMP_RET.ALLOW);
    const split: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }, { index: 1, op: 'SCMP_CMP_EQ', value: 15 }] }],
    };
    expect(exec(split, call('kill', [1n, 9n]))).toBe(errno(1));
    expect(exec(split, call('kill', [1n, 15n]))).toBe(errno(1));
    expect(exec(split, call('kill', [1n, 2n]))).toBe(SECCOMP_RET.ALLOW);
    const or: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }] },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_GT', value: 100 }] },
        { names: ['kill'], action: 'SCMP_ACT_LOG' },
      ],
    };
    expect(exec(or, call('kill', [200n, 9n]))).toBe(errno(22));
    expect(exec(or, call('kill', [200n, 15n]))).toBe(SECCOMP_RET.ALLOW);
    expect(exec(or, call('kill', [2n, 15n]))).toBe(SECCOMP_RET.LOG);
  });

  it('skips names an architecture does not have, and unknown names', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['socketcall', 'no_such_syscall', 'arch_prctl', 'getpid'], action: 'SCMP_ACT_ERRNO' }],
    };
    expect(() => compileSeccomp(p)).not.toThrow();
    expect(exec(p, call('socketcall', [], 'x86'))).toBe(errno(1)); // x86 only
    expect(exec(p, call('arch_prctl'))).toBe(errno(1)); // x86_64 only
    expect(exec(p, call('getpid', [], 'x86'))).toBe(errno(1));
    expect(exec(p, { ...call('getpid'), nr: SYSCALLS.x86.socketcall })).toBe(SECCOMP_RET.ALLOW);
  });

  it('checks the architecture first: native always, listed ones, everything else killed (libseccomp)', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] };
    expect(exec(p, call('getpid'))).toBe(SECCOMP_RET.ALLOW);
    expect(exec(p, call('getpid', [], 'x86'))).toBe(SECCOMP_RET.KILL_THREAD);
    expect(exec(p, call('getpid', [], 'x32'))).toBe(SECCOMP_RET.KILL_THREAD);
    expect(exec(p, { ...call('getpid'), arch: 0x12345678 })).toBe(SECCOMP_RET.KILL_THREAD);
    const all: LinuxSeccomp = { ...p, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] };
    for (const a of ['x86_64', 'x86', 'x32'] as SeccompArch[]) {
      expect(exec(all, call('getpid', [], a))).toBe(SECCOMP_RET.ALLOW);
      expect(exec(all, call('read', [], a))).toBe(errno(1));
      expect(exec(all, call('getppid', [], a))).toBe(errno(38)); // above the largest named: runc's stub
    }
    // x32 only: x86_64's numbers (bit 30 clear) are then a bad architecture.
    const x32: LinuxSeccomp = { ...p, architectures: ['SCMP_ARCH_X32'] };
    expect(exec(x32, call('getpid', [], 'x32'), 'x86_64')).toBe(SECCOMP_RET.ALLOW);
    // An aarch64 host with arm listed: x86 numbers mean nothing there.
    const arm: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_ARM'] };
    expect(exec(arm, { nr: 20, arch: AUDIT_ARCH.aarch64, args: [] }, 'aarch64')).toBe(SECCOMP_RET.ALLOW);
    expect(exec(arm, { nr: 20, arch: AUDIT_ARCH.arm, args: [] }, 'aarch64')).toBe(SECCOMP_RET.ALLOW);
    expect(exec(arm, { nr: 20, arch: X64, args: [] }, 'aarch64')).toBe(SECCOMP_RET.KILL_THREAD);
  });

  it('compares only the low word on 32-bit architectures', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 2 ** 32 + 9 }] }],
    };
    expect(exec(p, call('kill', [1n, 9n], 'x86'))).toBe(errno(1));
    expect(exec(p, call('kill', [1n, 9n]))).toBe(SECCOMP_RET.ALLOW);
    expect(exec(p, call('kill', [1n, (1n << 32n) + 9n]))).toBe(errno(1));
  });

  it("adds runc's -ENOSYS stub for syscalls above the profile's largest", () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['read', 'openat'], action: 'SCMP_ACT_ALLOW' }],
    };
    expect(exec(p, { ...call('read'), nr: nr64('openat') + 1 })).toBe(errno(38));
    expect(exec(p, { ...call('read'), nr: nr64('openat') - 1 })).toBe(errno(1));
    expect(exec(p, call('openat'))).toBe(SECCOMP_RET.ALLOW);
    // Not without listed architectures, not for ENOSYS or permissive defaults.
    expect(exec({ ...p, architectures: [] }, { ...call('read'), nr: nr64('openat') + 1 })).toBe(errno(1));
    expect(exec({ ...p, defaultErrnoRet: 38 }, { ...call('read'), nr: 400 })).toBe(errno(38));
    expect(exec({ ...p, defaultAction: 'SCMP_ACT_LOG' }, { ...call('read'), nr: 400 })).toBe(SECCOMP_RET.LOG);
  });

  it('handles profiles needing long jumps (every x86_64 syscall with conditions)', () => {
    const names = Object.keys(SYSCALLS.x86_64);
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: names.map((n, i) => ({
        names: [n],
        action: i % 2 ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_TRAP',
        args: i % 3 ? [] : [{ index: i % 6, op: 'SCMP_CMP_EQ', value: i }],
      })),
    };
    const prog = compileSeccomp(p).filter;
    expect(prog.length / 8).toBeGreaterThan(256);
    names.forEach((n, i) => {
      for (const v of [BigInt(i), BigInt(i + 1)]) {
        const d = call(n, [v, v, v, v, v, v]);
        expect(run(prog, d)).toBe(evaluate(p, 'x86_64', d));
      }
    });
  });

  it.skipIf(!existsSync(CONTAINERS_SECCOMP))("compiles containers-common's default profile", () => {
    const p = podmanSeccomp(CONTAINERS_SECCOMP, { caps: ['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'] });
    const { filter } = compileSeccomp(p);
    expect(filter.length / 8).toBeLessThan(4096);
    for (const a of ['x86_64', 'x86', 'x32'] as SeccompArch[]) {
      for (const [n] of Object.entries(SYSCALLS[a])) {
        for (const arg of [0n, 8n, 16n, 0xffffffffn]) {
          const d = call(n, [arg, 0n, 9n], a);
          expect(run(filter, d), `${a} ${n}`).toBe(evaluate(p, 'x86_64', d));
        }
      }
    }
    expect(run(filter, call('personality', [8n]))).toBe(SECCOMP_RET.ALLOW);
    expect(run(filter, call('personality', [9n]))).toBe(errno(38));
    expect(run(filter, call('bpf'))).toBe(errno(1));
    expect(run(filter, call('socket', [16n, 3n, 9n]))).toBe(errno(22));
  });

  it('agrees with the reference evaluator on random profiles (seeded)', () => {
    let seed = 0x5eccc0;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const names = ['read', 'write', 'getpid', 'kill', 'mmap', 'socketcall', '_llseek', 'arch_prctl', 'clone3', 'personality', 'bogus', 'openat', 'exit_group', 'ioctl'];
    const actions: LinuxSeccompAction[] = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];
    const ops: LinuxSeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
    const values = [0, 1, 2, 8, 0xff, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 8, 2 ** 63, 2 ** 64];
    const argVals = [...values.map(toU64), 3n, 0x1008n, (1n << 32n) - 2n, (1n << 63n) + 8n, M64 - 1n];
    const archTokens = Object.keys(TOKENS) as LinuxSeccomp['architectures'];
    const auditVals = [...Object.values(AUDIT_ARCH), 0xdeadbeef];
    const hosts: SeccompArch[] = ['x86_64', 'x86_64', 'aarch64'];
    for (let iter = 0; iter < 400; iter++) {
      const host = pick(hosts);
      const p: LinuxSeccomp = {
        defaultAction: pick(actions),
        defaultErrnoRet: rnd() < 0.3 ? pick([1, 13, 38]) : undefined,
        architectures: (archTokens ?? []).filter(() => rnd() < 0.4),
        syscalls: Array.from({ length: Math.floor(rnd() * 8) }, (): LinuxSyscall => ({
          names: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(names)),
          action: pick(actions),
          errnoRet: rnd() < 0.5 ? pick([1, 2, 22, 38]) : undefined,
          args: Array.from({ length: rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 3) }, () => ({
            index: Math.floor(rnd() * (rnd() < 0.3 ? 2 : 6)),
            op: pick(ops),
            value: pick(values),
            valueTwo: pick(values),
          })),
        })),
      };
      const prog = compileSeccomp(p, host).filter;
      for (let j = 0; j < 60; j++) {
        const arch = pick(auditVals);
        const tables = (Object.keys(SYSCALLS) as SeccompArch[]).filter((a) => AUDIT_ARCH[a] === arch);
        const name = pick(names);
        const known = tables.map((a) => SYSCALLS[a][name]).filter((n) => n !== undefined);
        const nr = known.length && rnd() < 0.8 ? pick(known) + pick([0, 0, 0, 1, -1]) : pick([0, 1, 334, 335, 500, 0x40000000, 0x40000001 + 334, -1]);
        const d: Data = { nr, arch, args: Array.from({ length: 6 }, () => pick(argVals)) };
        const got = run(prog, d);
        const want = evaluate(p, host, d);
        if (got !== want) {
          throw new Error(`iteration ${iter}: ${JSON.stringify(p)} host ${host} data ${JSON.stringify(d, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}: got ${got.toString(16)}, want ${want.toString(16)}`);
        }
      }
    }
  });
});
