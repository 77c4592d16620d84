// `kill`: signals a container's init, or with --all every process in its cgroup.
// Owns the rule that only created, running or paused containers can be signalled.
import { CgroupManager } from '../cgroups/manager';
import { Store, status, type StoredState } from './state';

export function signalContainer(store: Store, s: StoredState, sig: number, all: boolean): void {
  const st = status(store, s);
  if (st === 'stopped') throw new Error('container not running');
  if (!all) {
    process.kill(s.pid, sig);
    return;
  }
  const cg = new CgroupManager(s.cgroupPaths);
  // Freeze first so that no process forks away from the signal, as runc does.
  let frozen = false;
  try {
    if (st !== 'paused') {
      cg.setFrozen(true);
      frozen = true;
    }
  } catch {
    /* no freezer: signal as we can */
  }
  try {
    const pids = cg.pids();
    if (!pids.length) process.kill(s.pid, sig);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* exited meanwhile */
      }
    }
  } finally {
    if (frozen) cg.setFrozen(false);
  }
}
