// `delete`: removes a stopped (or, with --force, any) container: processes, cgroups, state.
// Owns the order: kill, wait for the processes to go, remove cgroups, remove the state directory.
import * as fs from 'node:fs';
import { Store, status, type StoredState } from './state';
import { waitGone } from './create';
import { runPoststop } from './hooks';
import { cgroupDriver } from '../cgroups';
import { error as logError } from '../log';

// hookCwd: where poststop hooks run; runc's is its own cwd (the bundle for `run`).
export function destroy(store: Store, s: StoredState, hookCwd = process.cwd()): void {
  const cg = cgroupDriver(s.cgroupPaths);
  // Without a pid namespace of its own, processes can outlive init: SIGKILL them as runc does (the
  // freeze inside signalAll keeps a forking one from escaping, the thaw lets the kill land). With
  // one, the kernel killed them with init; other processes sharing the cgroup are not ours to kill.
  const pidns = s.config.linux?.namespaces?.find((n) => n.type === 'pid');
  if (!pidns || pidns.path) {
    cg.kill(9);
    for (const pid of cg.pids()) waitGone(pid);
  } else if (cg.isPaused()) cg.freeze(false);
  // A cgroup that still holds someone else's processes (one shared with a pod's other container)
  // cannot go; as runc, that is an error in the log, not a failed delete.
  try {
    cg.destroy();
  } catch (e) {
    logError((e as Error).message);
  }
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
    // A frozen init cannot act on SIGKILL (runc#2105 hangs here): thaw after signalling.
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    if (st === 'paused') cgroupDriver(s.cgroupPaths).freeze(false);
    waitGone(s.pid);
  }
  destroy(store, s, hookCwd);
}
