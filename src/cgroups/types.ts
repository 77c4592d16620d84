// The contract every cgroup driver meets (v1, v2, later systemd), in the shape of youki's libcgroups,
// and the stats document that `events` prints, field for field as runc 1.1's types.Stats encodes it.
import type { LinuxResources } from '../oci';

export interface CgroupDriver {
  // Hierarchy key ("cpu,cpuacct", "name=systemd", "" for cgroup2) -> directory; what the state stores.
  readonly paths: Record<string, string>;
  // Makes the directories; returns the ones it created, so a failed create removes only those.
  create(): string[];
  // Moves pid (and with it, later, its children) into every hierarchy.
  join(pid: number): void;
  // Writes linux.resources; used by create (before any user code runs) and by update. A value the
  // kernel refuses is an error naming the field, e.g. `linux.resources.memory.limit: ...`.
  apply(resources: LinuxResources): void;
  pids(): number[];
  isPaused(): boolean;
  // Freezes or thaws, returning only once the kernel reports the new state.
  freeze(frozen: boolean): void;
  // Signals every process in the cgroup, frozen first so nothing escapes by forking.
  kill(signal: number): void;
  stats(): CgroupStats;
  // Removes the directories; a missing one is fine.
  destroy(): void;
}

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

// JSON keys and omission rules follow runc 1.1's types.Stats (`omitempty` fields may be absent).
export interface CgroupStats {
  cpu: {
    usage: { total?: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset?: Record<string, number | number[]>;
  memory: {
    cache?: number;
    usage?: MemoryEntry;
    swap?: MemoryEntry;
    kernel?: MemoryEntry;
    kernelTCP?: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: Record<string, BlkioEntry[]>;
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
  intel_rdt: Record<string, unknown>;
  network_interfaces: unknown[] | null;
}
