// Compatibility names for the code written before the driver layering: CgroupManager over stored paths,
// and resolvePaths. New code uses cgroupDriver()/driverForContainer() from ./index.
import type { Hierarchy } from './hierarchy';
import { cgroupDriver } from './index';
import { ownCgroups, resolvePaths } from './paths';
import type { CgroupDriver } from './types';

export { resolvePaths } from './paths';

export class CgroupManager {
  private readonly d: CgroupDriver;
  constructor(readonly paths: Record<string, string>) {
    this.d = cgroupDriver(paths);
  }

  static forContainer(cgroupsPath: string | undefined, id: string, hierarchies: Hierarchy[]): CgroupManager {
    return new CgroupManager(resolvePaths(cgroupsPath, id, hierarchies, ownCgroups()));
  }

  create = (): string[] => this.d.create();
  join = (pid: number): void => this.d.join(pid);
  pids = (): number[] => this.d.pids();
  isPaused = (): boolean => this.d.isPaused();
  setFrozen = (frozen: boolean): void => this.d.freeze(frozen);
  destroy = (): void => this.d.destroy();
}
