// Per-thread attributes of the container process that execve keeps: scheduler, I/O priority, NUMA
// memory policy and persona. Owns their encoding for the kernel; the final stage (stub/stage.c) applies
// all but the memory policy, which create's init sets on its main thread, the one that exec's the stub.
import type { LinuxIOPriority, LinuxMemoryPolicy, LinuxPersonality, Scheduler } from '../oci';
import { parseIdList, idMask } from '../oci/idlist';
import { libc } from '../linux/libc';
import type { SchedAttr } from '../process/plan';
import * as C from '../linux/constants';
import { errnoText } from '../linux/errors';

const U64_MAX = 0xffffffffffffffffn;

/** JSON uint64 values arrive as doubles; 2^64-1 written in the file reads back as 2^64. */
export function u64(n: number | undefined): bigint {
  const b = BigInt(Math.trunc(n ?? 0));
  return b > U64_MAX ? U64_MAX : b < 0n ? 0n : b;
}

export function schedAttr(s: Scheduler): SchedAttr {
  let flags = 0;
  for (const f of s.flags ?? []) flags |= C.SCHED_FLAG[f];
  return {
    policy: C.SCHED_POLICY[s.policy],
    flags,
    nice: s.nice ?? 0,
    priority: s.priority ?? 0,
    runtime: u64(s.runtime),
    deadline: u64(s.deadline),
    period: u64(s.period),
  };
}

export function ioprioValue(p: LinuxIOPriority): number {
  return (C.IOPRIO_CLASS[p.class] << C.IOPRIO_CLASS_SHIFT) | (p.priority ?? 0);
}

/** set_mempolicy(2) arguments. The kernel reads maxnode-1 bits, hence the +1. */
export function mempolicyArgs(mp: LinuxMemoryPolicy): { mode: number; nodes: BigUint64Array; maxnode: number } {
  let mode: number = C.MPOL_MODE[mp.mode];
  for (const f of mp.flags ?? []) mode |= C.MPOL_FLAG[f];
  const nodes = idMask(parseIdList(mp.nodes ?? '', 'memory policy node'));
  return { mode, nodes, maxnode: nodes.length ? nodes.length * 64 + 1 : 0 };
}

export function applyMemoryPolicy(mp: LinuxMemoryPolicy | undefined): void {
  if (!mp) return;
  const { mode, nodes, maxnode } = mempolicyArgs(mp);
  try {
    libc().setMempolicy(mode, nodes, maxnode);
  } catch (e) {
    throw new Error(`linux.memoryPolicy: set_mempolicy: ${errnoText(e)}`);
  }
}

/** The spec defines no persona flags yet; runc ignores them (with a warning at create). */
export function personalityValue(p: LinuxPersonality): number {
  return C.PERSONA[p.domain];
}
