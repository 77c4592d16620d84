// `delete`: removes a stopped (or, with --force, any) container: processes, cgroups, state.
// Owns the order: kill, wait for the processes to go, remove cgroups, remove the state directory.
import * as fs from 'node:fs';
import { CgroupManager } from '../cgroups/manager';
import { Store, status, type StoredState } from './state';
import { waitGone } from './create';
import { runPoststop } from './hooks';

// hookCwd: where poststop hooks run; runc's is its own cwd (the bundle for `run`).
export function destroy(store: Store, s: StoredState, hookCwd = process.cwd()): void {
  const cg = new CgroupManager(s.cgroupPaths);
  for (const pid of cg.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const pid of cg.pids()) waitGone(pid);
  cg.destroy();
  fs.rmSync(store.dir(s.id), { recursive: true, force: true });
  // config.md: "after the container is deleted but before the delete operation returns".
  runPoststop(s.config, s, hookCwd);
}

export function deleteContainer(store: Store, s: StoredState, force: boolean, hookCwd = process.cwd()): void {
  const st = status(store, s);
  if (st === 'running' || st === 'paused') {
    if (!force) throw new Error(`cannot delete container ${s.id} that is not stopped: ${st}`);
  }
  if (st !== 'stopped') {
    const cg = new CgroupManager(s.cgroupPaths);
    if (st === 'paused') cg.setFrozen(false);
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    waitGone(s.pid);
  }
  destroy(store, s, hookCwd);
}
