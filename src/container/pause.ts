// `pause` / `resume`: freezing and thawing a container's cgroup.
// Owns runc's rules: only a created or running container pauses, only a paused one resumes.
import { cgroupDriver } from '../cgroups';
import { Store, status, type StoredState } from './state';

export function pauseContainer(store: Store, s: StoredState): void {
  const st = status(store, s);
  if (st !== 'running' && st !== 'created') throw new Error('container not running');
  cgroupDriver(s.cgroupPaths).freeze(true);
}

export function resumeContainer(store: Store, s: StoredState): void {
  if (status(store, s) !== 'paused') throw new Error('container not paused');
  const d = cgroupDriver(s.cgroupPaths);
  d.freeze(false);
  if (d.isPaused()) throw new Error('unable to thaw');
}
