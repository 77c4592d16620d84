// Types for the OCI runtime-spec v1.3.0 config.json (portable and Linux parts)
// and the container State document; property names are exactly the JSON keys.

// Only types live here: importing this module costs nothing at run time.

export type LinuxNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export type LinuxSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type LinuxSeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export type LinuxSeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC'
  | 'SECCOMP_FILTER_FLAG_LOG'
  | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

export type Arch =
  | 'SCMP_ARCH_X86'
  | 'SCMP_ARCH_X86_64'
  | 'SCMP_ARCH_X32'
  | 'SCMP_ARCH_ARM'
  | 'SCMP_ARCH_AARCH64'
  | 'SCMP_ARCH_MIPS'
  | 'SCMP_ARCH_MIPS64'
  | 'SCMP_ARCH_MIPS64N32'
  | 'SCMP_ARCH_MIPSEL'
  | 'SCMP_ARCH_MIPSEL64'
  | 'SCMP_ARCH_MIPSEL64N32'
  | 'SCMP_ARCH_PPC'
  | 'SCMP_ARCH_PPC64'
  | 'SCMP_ARCH_PPC64LE'
  | 'SCMP_ARCH_S390'
  | 'SCMP_ARCH_S390X'
  | 'SCMP_ARCH_PARISC'
  | 'SCMP_ARCH_PARISC64'
  | 'SCMP_ARCH_RISCV64'
  | 'SCMP_ARCH_LOONGARCH64'
  | 'SCMP_ARCH_M68K'
  | 'SCMP_ARCH_SH'
  | 'SCMP_ARCH_SHEB';

export type LinuxSchedulerPolicy =
  | 'SCHED_OTHER'
  | 'SCHED_FIFO'
  | 'SCHED_RR'
  | 'SCHED_BATCH'
  | 'SCHED_ISO'
  | 'SCHED_IDLE'
  | 'SCHED_DEADLINE';

export type LinuxSchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK'
  | 'SCHED_FLAG_RECLAIM'
  | 'SCHED_FLAG_DL_OVERRUN'
  | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS'
  | 'SCHED_FLAG_UTIL_CLAMP_MIN'
  | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export type IOPriorityClass = 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';

export type LinuxPersonalityDomain = 'LINUX' | 'LINUX32';

export type MemoryPolicyModeType =
  | 'MPOL_DEFAULT'
  | 'MPOL_BIND'
  | 'MPOL_INTERLEAVE'
  | 'MPOL_WEIGHTED_INTERLEAVE'
  | 'MPOL_PREFERRED'
  | 'MPOL_PREFERRED_MANY'
  | 'MPOL_LOCAL';

export type MemoryPolicyFlagType = 'MPOL_F_NUMA_BALANCING' | 'MPOL_F_RELATIVE_NODES' | 'MPOL_F_STATIC_NODES';

/** runc also accepts the recursive r* forms, so they are part of the type. */
export type RootfsPropagation =
  | 'shared'
  | 'rshared'
  | 'slave'
  | 'rslave'
  | 'private'
  | 'rprivate'
  | 'unbindable'
  | 'runbindable';

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: Box;
  user: User;
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: LinuxIOPriority;
  execCPUAffinity?: CPUAffinity;
}

export interface Box {
  height: number;
  width: number;
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/**
 * hard and soft are uint64: values above 2^53 (e.g. RLIM_INFINITY written as
 * 18446744073709551615) arrive rounded, to 2^64 for that one.
 */
export interface POSIXRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Scheduler {
  policy: LinuxSchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: LinuxSchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export interface LinuxIOPriority {
  class: IOPriorityClass;
  priority?: number;
}

export interface CPUAffinity {
  initial?: string;
  final?: string;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Hooks {
  /** Deprecated by the spec in favour of createRuntime/createContainer/startContainer. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface Linux {
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  sysctl?: Record<string, string>;
  resources?: LinuxResources;
  cgroupsPath?: string;
  namespaces?: LinuxNamespace[];
  devices?: LinuxDevice[];
  netDevices?: Record<string, LinuxNetDevice>;
  seccomp?: LinuxSeccomp;
  rootfsPropagation?: RootfsPropagation;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  intelRdt?: LinuxIntelRdt;
  personality?: LinuxPersonality;
  timeOffsets?: Partial<Record<'monotonic' | 'boottime', LinuxTimeOffset>>;
  memoryPolicy?: LinuxMemoryPolicy;
}

export interface LinuxNamespace {
  type: LinuxNamespaceType;
  path?: string;
}

export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface LinuxTimeOffset {
  secs?: number;
  nanosecs?: number;
}

/** type: c (char), b (block), u (unbuffered char), p (FIFO). */
export interface LinuxDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  /** Absent only for type "p". */
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxNetDevice {
  name?: string;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, LinuxRdma>;
  unified?: Record<string, string>;
}

/** type: a (all), c, b; unset type/major/minor mean "all". */
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  /** Deprecated by the spec; runc ignores it. */
  kernel?: number;
  /** Deprecated by the spec; runc ignores it. */
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  limit: number;
}

export interface LinuxBlockIODevice {
  major: number;
  minor: number;
}

export interface LinuxWeightDevice extends LinuxBlockIODevice {
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice extends LinuxBlockIODevice {
  rate: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  pageSize: string;
  limit: number;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}

export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxSeccomp {
  /** Required by the spec; runc treats a missing one with no syscalls as "no seccomp". */
  defaultAction?: LinuxSeccompAction;
  defaultErrnoRet?: number;
  architectures?: Arch[];
  flags?: LinuxSeccompFlag[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

export interface LinuxSyscall {
  names: string[];
  action: LinuxSeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: LinuxSeccompOperator;
}

export interface LinuxIntelRdt {
  closID?: string;
  /** v1.3.0: one schemata line per element (was a single string before). */
  schemata?: string[];
  l3CacheSchema?: string;
  memBwSchema?: string;
  enableMonitoring?: boolean;
  /** Pre-1.3 monitoring switches, superseded by enableMonitoring. */
  enableCMT?: boolean;
  enableMBM?: boolean;
}

export interface LinuxPersonality {
  domain: LinuxPersonalityDomain;
  /** No flags are defined by the spec yet. */
  flags?: string[];
}

export interface LinuxMemoryPolicy {
  mode: MemoryPolicyModeType;
  /** Comma-separated node ranges, e.g. "0-3,7". */
  nodes?: string;
  flags?: MemoryPolicyFlagType[];
}

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

/** The document printed by `state` (runtime.md "State"). */
export interface State {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** Present while created or running. */
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}
