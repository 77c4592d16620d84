// The closed value sets of config.json (namespace types, seccomp names,
// scheduler, I/O priority, memory policy, ...), exported for every consumer.

import type {
  Arch,
  IOPriorityClass,
  LinuxNamespaceType,
  LinuxPersonalityDomain,
  LinuxSchedulerFlag,
  LinuxSchedulerPolicy,
  LinuxSeccompAction,
  LinuxSeccompFlag,
  LinuxSeccompOperator,
  MemoryPolicyFlagType,
  MemoryPolicyModeType,
  RootfsPropagation,
} from './spec';

export const NAMESPACE_TYPES: readonly LinuxNamespaceType[] = [
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
];

export const SECCOMP_ACTIONS: readonly LinuxSeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

export const SECCOMP_OPERATORS: readonly LinuxSeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

export const SECCOMP_FLAGS: readonly LinuxSeccompFlag[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

export const SECCOMP_ARCHES: readonly Arch[] = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
];

export const SCHEDULER_POLICIES: readonly LinuxSchedulerPolicy[] = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
];

export const SCHEDULER_FLAGS: readonly LinuxSchedulerFlag[] = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
];

export const IOPRIO_CLASSES: readonly IOPriorityClass[] = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];

export const PERSONALITY_DOMAINS: readonly LinuxPersonalityDomain[] = ['LINUX', 'LINUX32'];

export const MEMORY_POLICY_MODES: readonly MemoryPolicyModeType[] = [
  'MPOL_DEFAULT',
  'MPOL_BIND',
  'MPOL_INTERLEAVE',
  'MPOL_WEIGHTED_INTERLEAVE',
  'MPOL_PREFERRED',
  'MPOL_PREFERRED_MANY',
  'MPOL_LOCAL',
];

export const MEMORY_POLICY_FLAGS: readonly MemoryPolicyFlagType[] = [
  'MPOL_F_NUMA_BALANCING',
  'MPOL_F_RELATIVE_NODES',
  'MPOL_F_STATIC_NODES',
];

export const ROOTFS_PROPAGATIONS: readonly RootfsPropagation[] = [
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
  'unbindable',
  'runbindable',
];

/** Clocks a time namespace can offset (linux.timeOffsets keys). */
export const TIME_OFFSET_CLOCKS: readonly string[] = ['monotonic', 'boottime'];

/** linux.devices[].type */
export const DEVICE_TYPES: readonly string[] = ['c', 'b', 'u', 'p'];

/** linux.resources.devices[].type */
export const CGROUP_DEVICE_TYPES: readonly string[] = ['a', 'c', 'b'];

/** Hook lists in the order the spec defines them. */
export const HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;
