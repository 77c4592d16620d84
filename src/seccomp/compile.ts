// Compiles an OCI linux.seccomp object into a classic-BPF seccomp program, in place of libseccomp.
// Owns the semantics (stated below, those of runc 1.1 + libseccomp 2.5) and the program's shape.
//
// Rules, each mirrored by the reference evaluator in test/unit/seccomp.compile.test.ts:
// - Architectures: the host's native one is always in the filter (libseccomp's seccomp_init adds it), plus every
//   listed one we have a table for. A syscall from any other architecture gets libseccomp's default "bad arch"
//   action, SCMP_ACT_KILL (KILL_THREAD): runc never changes it. x86_64 and x32 share AUDIT_ARCH_X86_64; a number
//   >= __X32_SYSCALL_BIT (unsigned, as libseccomp's JGE) is x32's, and it is a bad arch unless x32 is listed.
// - Names are resolved per architecture; a name the architecture lacks is skipped there (libseccomp ignores
//   it, runc only warns). x86's socketcall/ipc multiplexing is not expanded (libseccomp adds sub-call rules).
// - A rule whose action equals the default action (errno included) adds nothing, as in runc.
// - Conditions of one rule are ANDed; if one argument index appears twice, runc adds every condition as a
//   rule of its own instead (ORed), and so do we. Several rules of one syscall: the conditional ones in
//   profile order, first match wins; then the first unconditional one; then the default action.
// - Arguments are compared as unsigned 64-bit numbers, high word first, on 64-bit architectures; on 32-bit
//   ones (x86, arm) only the low words (the value truncated), as libseccomp. MASKED_EQ: (arg & value) == valueTwo.
// - runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): unless the default action is ALLOW, LOG or TRACE or
//   defaultErrnoRet is ENOSYS, a syscall numbered above the largest one the profile names for a listed
//   architecture returns ENOSYS, so that libcs fall back from syscalls newer than the profile (clone3).
// - ERRNO and TRACE carry errnoRet (default EPERM); the default action carries defaultErrnoRet.
import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFlag } from '../oci/spec';
import { AUDIT_ARCH, SYSCALLS, type SeccompArch } from './syscalls.generated';
import { Asm, BPF, type Label } from './bpf';

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

export const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

export const ARCH_OF_TOKEN: Record<string, SeccompArch> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
};

const IS_32BIT: Record<SeccompArch, boolean> = { x86_64: false, x86: true, x32: false, aarch64: false, arm: true };

export interface CompiledSeccomp {
  filter: Buffer; // struct sock_filter[]
  flags: number; // SECCOMP_FILTER_FLAG_*
  notify: boolean;
}

export function actionValue(action: LinuxSeccompAction, errnoRet: number | undefined): number {
  const data = ((errnoRet ?? EPERM) & 0xffff) >>> 0;
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | data) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP_RET.USER_NOTIF;
    default:
      throw new Error(`linux.seccomp: unknown action ${String(action)}`);
  }
}

const FLAG_BITS: Record<LinuxSeccompFlag, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** The filter flags the compiler turns into seccomp(2) flags: `ocirun features`' supportedFlags. */
export const COMPILED_SECCOMP_FLAGS = Object.keys(FLAG_BITS) as LinuxSeccompFlag[];

const U64_MAX = (1n << 64n) - 1n;

// JSON numbers above 2^53 are inexact; the parser turns uint64's maximum into 2^64, read back as the maximum.
export function u64(n: number): bigint {
  if (!Number.isFinite(n)) throw new Error(`linux.seccomp: ${n} is not a number`);
  const b = BigInt(Math.trunc(n));
  if (b > U64_MAX) return U64_MAX;
  return BigInt.asUintN(64, b);
}

export interface Cond {
  index: number;
  op: LinuxSeccompArg['op'];
  value: bigint;
  valueTwo: bigint;
}

export interface Rule {
  ret: number;
  conds: Cond[]; // empty: unconditional
}

export interface ArchPlan {
  arch: SeccompArch;
  // Per syscall number: the conditional rules in order, then at most one unconditional rule.
  rules: Map<number, Rule[]>;
  // runc's -ENOSYS stub bound, when it applies to this architecture.
  enosysAbove?: number;
}

export interface Plan {
  defaultRet: number;
  badArchRet: number;
  archs: ArchPlan[];
  notify: boolean;
  flags: number;
}

/** The profile reduced to per-architecture rule lists: what both the compiler and the tests' evaluator read. */
export function plan(s: LinuxSeccomp, hostArch: SeccompArch = 'x86_64'): Plan {
  const defaultAction = s.defaultAction ?? 'SCMP_ACT_ALLOW';
  const defaultRet = actionValue(defaultAction, s.defaultErrnoRet);
  const listed: SeccompArch[] = [];
  for (const token of s.architectures ?? []) {
    const a = ARCH_OF_TOKEN[token];
    if (a && !listed.includes(a)) listed.push(a);
  }
  const archs = [hostArch, ...listed.filter((a) => a !== hostArch)];
  const stub =
    !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(defaultAction) && s.defaultErrnoRet !== ENOSYS;
  let notify = defaultAction === 'SCMP_ACT_NOTIFY';

  const plans = archs.map((arch): ArchPlan => {
    const table = SYSCALLS[arch];
    const conditional = new Map<number, Rule[]>();
    const unconditional = new Map<number, Rule>();
    let largest = 0;
    for (const sc of s.syscalls ?? []) {
      const ret = actionValue(sc.action, sc.errnoRet);
      if (sc.action === 'SCMP_ACT_NOTIFY') notify = true;
      const conds = (sc.args ?? []).map(
        (a): Cond => ({ index: a.index, op: a.op, value: u64(a.value), valueTwo: u64(a.valueTwo ?? 0) }),
      );
      const counts = new Set(conds.map((c) => c.index));
      const rules: Rule[] =
        counts.size < conds.length ? conds.map((c) => ({ ret, conds: [c] })) : [{ ret, conds }];
      for (const name of sc.names ?? []) {
        if (!Object.prototype.hasOwnProperty.call(table, name)) continue;
        const nr = table[name];
        if (nr > largest) largest = nr;
        if (ret === defaultRet) continue;
        for (const r of rules) {
          if (r.conds.length === 0) {
            if (!unconditional.has(nr)) unconditional.set(nr, r);
          } else {
            const l = conditional.get(nr) ?? [];
            l.push(r);
            conditional.set(nr, l);
          }
        }
      }
    }
    const rules = new Map<number, Rule[]>();
    for (const nr of new Set([...conditional.keys(), ...unconditional.keys()])) {
      const l = [...(conditional.get(nr) ?? [])];
      const u = unconditional.get(nr);
      if (u) l.push(u);
      rules.set(nr, l);
    }
    const p: ArchPlan = { arch, rules };
    if (stub && listed.includes(arch) && largest !== 0) p.enosysAbove = largest;
    return p;
  });

  let flags = 0;
  for (const f of s.flags ?? []) {
    const bit = FLAG_BITS[f];
    if (bit === undefined) throw new Error(`linux.seccomp.flags: unknown flag ${String(f)}`);
    flags |= bit;
  }
  if (notify) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    // The kernel refuses TSYNC with a listener unless a failed sync reports ESRCH instead of a thread id.
    if (flags & SECCOMP_FILTER_FLAG.TSYNC) flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
  }
  return { defaultRet, badArchRet: SECCOMP_RET.KILL_THREAD, archs: plans, notify, flags };
}

export function compileSeccomp(s: LinuxSeccomp, hostArch: SeccompArch = 'x86_64'): CompiledSeccomp {
  const p = plan(s, hostArch);
  const asm = new Asm();
  emitProgram(asm, p);
  return { filter: asm.link(), flags: p.flags, notify: p.notify };
}

const NR = 0;
const ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 20 + 8 * i;

function emitProgram(asm: Asm, p: Plan): void {
  // One block per AUDIT_ARCH value; x86_64 and x32 share one.
  const groups = new Map<number, ArchPlan[]>();
  for (const a of p.archs) {
    const audit = AUDIT_ARCH[a.arch];
    groups.set(audit, [...(groups.get(audit) ?? []), a]);
  }
  asm.load(ARCH);
  const blocks: [Label, number, ArchPlan[]][] = [];
  for (const [audit, archs] of groups) {
    const hit = asm.label();
    const miss = asm.label();
    asm.jump(BPF.JEQ_K, audit, hit, miss);
    asm.mark(miss);
    blocks.push([hit, audit, archs]);
  }
  asm.ret(p.badArchRet);
  for (const [hit, audit, archs] of blocks) {
    asm.mark(hit);
    asm.load(NR);
    if (audit === AUDIT_ARCH.x86_64) emitX86_64Group(asm, p, archs);
    else {
      emitEnosys(asm, archs[0].enosysAbove);
      emitSearch(asm, p, archs[0]);
    }
  }
}

// runc's stub picks its bound by bit 30 (JSET); libseccomp's own split is JGE __X32_SYSCALL_BIT.
function emitX86_64Group(asm: Asm, p: Plan, archs: ArchPlan[]): void {
  const x64 = archs.find((a) => a.arch === 'x86_64');
  const x32 = archs.find((a) => a.arch === 'x32');
  if (x64?.enosysAbove !== undefined || x32?.enosysAbove !== undefined) {
    const s32 = asm.label();
    const s64 = asm.label();
    const dispatch = asm.label();
    asm.jump(BPF.JSET_K, X32_SYSCALL_BIT, s32, s64);
    asm.mark(s64);
    emitEnosys(asm, x64?.enosysAbove);
    asm.ja(dispatch);
    asm.mark(s32);
    emitEnosys(asm, x32?.enosysAbove);
    asm.mark(dispatch);
  }
  const l32 = asm.label();
  const l64 = asm.label();
  asm.jump(BPF.JGE_K, X32_SYSCALL_BIT, l32, l64);
  asm.mark(l64);
  if (x64) emitSearch(asm, p, x64);
  else asm.ret(p.badArchRet);
  asm.mark(l32);
  if (x32) emitSearch(asm, p, x32);
  else asm.ret(p.badArchRet);
}

function emitEnosys(asm: Asm, above: number | undefined): void {
  if (above === undefined) return;
  const no = asm.label();
  const go = asm.label();
  asm.jump(BPF.JGT_K, above, no, go);
  asm.mark(no);
  asm.ret((SECCOMP_RET.ERRNO | ENOSYS) >>> 0);
  asm.mark(go);
}

type Leaf = { ret: number } | { nr: number; rules: Rule[] };
interface Segment {
  lo: number; // first syscall number of the segment; it runs up to the next segment's lo
  leaf: Leaf;
}

// The syscall numbers with rules split [0, 2^32) into segments; runs of numbers (and gaps) with the same
// unconditional outcome merge, so a profile of ~400 allowed syscalls becomes a few dozen segments, found by
// binary search (JGE on segment starts) in log2(segments) jumps. Expects the syscall number in A.
function emitSearch(asm: Asm, p: Plan, a: ArchPlan): void {
  const nrs = [...a.rules.keys()].sort((x, y) => x - y);
  const segs: Segment[] = [];
  const push = (lo: number, leaf: Leaf) => {
    // A default gap of no width (two consecutive numbers) is replaced, then runs of one outcome merge.
    if (segs.length && segs[segs.length - 1].lo === lo) segs.pop();
    const last = segs[segs.length - 1];
    if (last && 'ret' in last.leaf && 'ret' in leaf && last.leaf.ret === leaf.ret) return;
    segs.push({ lo, leaf });
  };
  push(0, { ret: p.defaultRet });
  for (const nr of nrs) {
    const rules = a.rules.get(nr) as Rule[];
    push(nr, rules.length === 1 && rules[0].conds.length === 0 ? { ret: rules[0].ret } : { nr, rules });
    if (nr < 0xffffffff) push(nr + 1, { ret: p.defaultRet });
  }
  const tree = (lo: number, hi: number): void => {
    if (lo === hi) {
      emitLeaf(asm, p, a.arch, segs[lo].leaf);
      return;
    }
    const mid = (lo + hi + 1) >> 1;
    const right = asm.label();
    const left = asm.label();
    asm.jump(BPF.JGE_K, segs[mid].lo, right, left);
    asm.mark(left);
    tree(lo, mid - 1);
    asm.mark(right);
    tree(mid, hi);
  };
  tree(0, segs.length - 1);
}

function emitLeaf(asm: Asm, p: Plan, arch: SeccompArch, leaf: Leaf): void {
  if ('ret' in leaf) {
    asm.ret(leaf.ret);
    return;
  }
  let fallback = p.defaultRet;
  for (const r of leaf.rules) {
    if (r.conds.length === 0) {
      fallback = r.ret;
      break;
    }
    const next = asm.label();
    for (const c of r.conds) {
      const pass = asm.label();
      emitCond(asm, arch, c, pass, next);
      asm.mark(pass);
    }
    asm.ret(r.ret);
    asm.mark(next);
  }
  asm.ret(fallback);
}

const hiWord = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const loWord = (v: bigint) => Number(v & 0xffffffffn);

// Jumps to `pass` when the condition holds, else to `fail`. LT and LE are GE and GT with the outcomes
// swapped, NE is EQ swapped (libseccomp does the same).
function emitCond(asm: Asm, arch: SeccompArch, c: Cond, pass: Label, fail: Label): void {
  if (c.index < 0 || c.index > 5 || !Number.isInteger(c.index)) {
    throw new Error(`linux.seccomp: argument index ${c.index} is out of range 0-5`);
  }
  const only32 = IS_32BIT[arch];
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return cmpEq(asm, only32, c.index, c.value, pass, fail);
    case 'SCMP_CMP_NE':
      return cmpEq(asm, only32, c.index, c.value, fail, pass);
    case 'SCMP_CMP_GT':
      return cmpOrder(asm, only32, c.index, c.value, BPF.JGT_K, pass, fail);
    case 'SCMP_CMP_GE':
      return cmpOrder(asm, only32, c.index, c.value, BPF.JGE_K, pass, fail);
    case 'SCMP_CMP_LE':
      return cmpOrder(asm, only32, c.index, c.value, BPF.JGT_K, fail, pass);
    case 'SCMP_CMP_LT':
      return cmpOrder(asm, only32, c.index, c.value, BPF.JGE_K, fail, pass);
    case 'SCMP_CMP_MASKED_EQ':
      return cmpMasked(asm, only32, c.index, c.value, c.valueTwo, pass, fail);
    default:
      throw new Error(`linux.seccomp: unknown operator ${String(c.op)}`);
  }
}

function cmpEq(asm: Asm, only32: boolean, i: number, v: bigint, yes: Label, no: Label): void {
  if (!only32) {
    const lo = asm.label();
    asm.load(argHi(i));
    asm.jump(BPF.JEQ_K, hiWord(v), lo, no);
    asm.mark(lo);
  }
  asm.load(argLo(i));
  asm.jump(BPF.JEQ_K, loWord(v), yes, no);
}

// Unsigned 64-bit order: the high words decide unless they are equal.
function cmpOrder(asm: Asm, only32: boolean, i: number, v: bigint, code: number, yes: Label, no: Label): void {
  if (!only32) {
    const eq = asm.label();
    const lo = asm.label();
    asm.load(argHi(i));
    asm.jump(BPF.JGT_K, hiWord(v), yes, eq);
    asm.mark(eq);
    asm.jump(BPF.JEQ_K, hiWord(v), lo, no);
    asm.mark(lo);
  }
  asm.load(argLo(i));
  asm.jump(code, loWord(v), yes, no);
}

function cmpMasked(asm: Asm, only32: boolean, i: number, mask: bigint, want: bigint, yes: Label, no: Label): void {
  if (!only32) {
    const lo = asm.label();
    asm.load(argHi(i));
    asm.and(hiWord(mask));
    asm.jump(BPF.JEQ_K, hiWord(want), lo, no);
    asm.mark(lo);
  }
  asm.load(argLo(i));
  asm.and(loWord(mask));
  asm.jump(BPF.JEQ_K, loWord(want), yes, no);
}
