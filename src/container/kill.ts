// `kill`: signals a container's init, or with --all every process in its cgroup.
// Owns runc 1.1's rules: init is signalled only when created, running or paused; --all signals
// whatever the cgroup holds, frozen first so nothing escapes by forking, and thawed after.
import { cgroupDriver } from '../cgroups';
import { Store, status, type StoredState } from './state';

export function signalContainer(store: Store, s: StoredState, sig: number, all: boolean): void {
  if (all) return cgroupDriver(s.cgroupPaths).kill(sig);
  if (status(store, s) === 'stopped') throw new Error('container not running');
  process.kill(s.pid, sig);
}
