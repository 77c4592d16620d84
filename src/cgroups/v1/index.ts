// The cgroup v1 driver: one directory per mounted hierarchy (plus name=systemd and, on a hybrid host, the
// empty cgroup2 tree), each controller writing its part of linux.resources in runc's subsystem order.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../oci';
import { allPids, removeTrees } from '../tree';
import { setFrozen as setCgroupFreeze } from '../v2/freezer';
import type { CgroupDriver, CgroupStats } from '../types';
import type { Controller } from './fs';
import { cpuset, inheritCpuset } from './cpuset';
import { devices } from './devices';
import { memory } from './memory';
import { cpu } from './cpu';
import { cpuacct } from './cpuacct';
import { pids } from './pids';
import { blkio } from './blkio';
import { hugetlb } from './hugetlb';
import { netCls } from './net_cls';
import { netPrio } from './net_prio';
import { freezer, isFrozen, setFreezerState } from './freezer';
import { rdma } from './rdma';
import { v1Stats } from './stats';

// runc's order: cpuset before anything that could move memory, devices early, freezer last but one.
export const CONTROLLERS: Controller[] = [cpuset, devices, memory, cpu, cpuacct, pids, blkio, hugetlb, netCls, netPrio, freezer, rdma];

export class V1Driver implements CgroupDriver {
  constructor(readonly paths: Record<string, string>) {}

  // The directory of a controller, whichever hierarchy it is co-mounted in ("cpu,cpuacct").
  dir(controller: string): string | undefined {
    for (const [k, d] of Object.entries(this.paths)) if (k.split(',').includes(controller)) return d;
    return undefined;
  }

  create(): string[] {
    const made: string[] = [];
    for (const [key, dir] of Object.entries(this.paths)) {
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first) made.push(dir);
      if (first && key.split(',').includes('cpuset')) inheritCpuset(first, dir);
    }
    return made;
  }

  // Joining a cgroup that already holds processes (a CRI pod's) is a plain write too.
  join(pid: number): void {
    for (const dir of Object.values(this.paths)) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new Error(`cannot join cgroup ${dir}: ${(e as Error).message}`);
      }
    }
  }

  apply(r: LinuxResources): void {
    if (r.unified !== undefined) throw new Error('invalid configuration: cannot use unified on cgroup v1');
    for (const c of CONTROLLERS) {
      const dir = this.dir(c.name);
      if (dir) c.set(dir, r);
      else {
        const asked = c.requested(r);
        if (asked.length) throw new Error(`${asked[0]}: the ${c.name} cgroup controller is not mounted on this host`);
      }
    }
  }

  // Every process of the cgroup and its sub-cgroups, as runc's GetAllPids, in a stable walk order.
  pids(): number[] {
    const dir = this.dir('pids') ?? this.dir('freezer') ?? this.dir('devices') ?? this.paths[''] ?? Object.values(this.paths)[0];
    return dir ? allPids(dir) : [];
  }

  isPaused(): boolean {
    const dir = this.dir('freezer');
    if (dir) return isFrozen(dir);
    const v2 = this.paths[''];
    if (!v2) return false;
    try {
      return fs.readFileSync(path.join(v2, 'cgroup.freeze'), 'utf8').trim() === '1';
    } catch {
      return false;
    }
  }

  // The v1 freezer when mounted; without it, the hybrid host's cgroup2 directory (freezing is built in there).
  freeze(frozen: boolean): void {
    const dir = this.dir('freezer');
    if (dir) return setFreezerState(dir, frozen);
    const v2 = this.paths[''];
    if (!v2 || !fs.existsSync(path.join(v2, 'cgroup.freeze'))) throw new Error('cgroup freezer is not available');
    setCgroupFreeze(v2, frozen);
  }

  // runc's signalAllProcesses: freeze so that nothing forks away, signal all, thaw (also when it
  // was paused before: a frozen process cannot act on the signal).
  kill(signal: number): void {
    try {
      this.freeze(true);
    } catch {
      /* no freezer: signal as we can */
    }
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch {
          /* exited meanwhile */
        }
      }
    } finally {
      try {
        this.freeze(false);
      } catch {
        /* nothing to thaw */
      }
    }
  }

  stats(): CgroupStats {
    return v1Stats(this.paths);
  }

  // Bottom-up, sub-cgroups the container's processes made included.
  destroy(): void {
    const errors = removeTrees(Object.values(this.paths));
    if (errors.length) throw new Error(`cannot remove cgroups: ${errors.join('; ')}`);
  }
}
