// CPU affinity of container processes: the init starts on every CPU its cpuset allows, whatever the
// runtime was pinned to; execCPUAffinity is for processes exec'd into a running container only.
import type { CPUAffinity } from '../oci';
import { fullMask, idMask, parseIdList } from '../oci/idlist';
import { libc } from '../linux/libc';
import { debug } from '../log';

/**
 * Since Linux 6.2 moving a task into a cpuset cgroup no longer resets its affinity, so an init forked
 * by a runtime started under `taskset` would inherit the runtime's CPUs. runc 1.2+ asks for every CPU
 * after joining the cgroups and lets the kernel cut that down to the cpuset; so does this.
 */
export function resetCPUAffinity(pid: number): void {
  try {
    libc().schedSetaffinity(pid, fullMask());
  } catch (e) {
    debug(`cannot reset the CPU affinity of ${pid}: ${(e as Error).message}`);
  }
}

/**
 * The masks for process.execCPUAffinity: `initial` before the process joins the container's cgroups,
 * `final` after. The spec excludes the init process; this is for exec.
 */
export function execCPUAffinity(a: CPUAffinity | undefined): { initial?: BigUint64Array; final?: BigUint64Array } {
  const mask = (list: string | undefined) => (list ? idMask(parseIdList(list, 'CPU')) : undefined);
  return { initial: mask(a?.initial), final: mask(a?.final) };
}
