// Placeholder for the cgroup v2 driver (written on another branch, which replaces this file): lets the
// factory compile; every operation fails, so a pure v2 host is refused rather than half handled.
import type { LinuxResources } from '../../oci';
import type { CgroupDriver, CgroupStats } from '../types';

const missing = (): never => {
  throw new Error('cgroup v2 is not supported by this build');
};

export class V2Driver implements CgroupDriver {
  readonly paths: Record<string, string>;
  constructor(readonly dir: string) {
    this.paths = { '': dir };
  }
  create = (): string[] => missing();
  join = (_pid: number): void => missing();
  apply = (_r: LinuxResources): void => missing();
  pids = (): number[] => missing();
  isPaused = (): boolean => false;
  freeze = (_f: boolean): void => missing();
  kill = (_s: number): void => missing();
  stats = (): CgroupStats => missing();
  destroy = (): void => missing();
}
