// The RLIMIT_* names accepted in process.rlimits[].type and their resource
// numbers for setrlimit/prlimit.

/**
 * Generic Linux numbering (x86, arm, arm64, riscv, ppc, s390). alpha, mips
 * and sparc number a few resources differently; a port there must swap this.
 */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** Resource number for an RLIMIT_* name, or undefined. */
export function rlimitNumber(name: string): number | undefined {
  return Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
}
