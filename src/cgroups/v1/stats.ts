// v1 stats: the CgroupStats document read from the controllers' files.
// Placeholder (zeros): the events/stats work replaces it with the real reader.
import type { CgroupStats } from '../types';

export function v1Stats(_paths: Record<string, string>): CgroupStats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    memory: {},
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}
