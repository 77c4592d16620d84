// The cgroup v2 driver: one directory in the unified hierarchy, resources written in runc's fs2 order,
// the device filter as an eBPF program, freezing via cgroup.freeze, killing via cgroup.kill.
import type { LinuxResources } from '../../oci';
import type { CgroupDriver, CgroupStats } from '../types';
import { log } from '../../log';
import { makeContext } from './context';
import { writeFile } from './files';
import { setCpu } from './cpu';
import { setCpuset } from './cpuset';
import { setDevices, type DeviceOptions } from './devices';
import { setHugetlb } from './hugetlb';
import { setIo } from './io';
import { setMemory } from './memory';
import { setPids } from './pids';
import { setRdma } from './rdma';
import { setUnified } from './unified';
import { isFrozen, killAll, setFrozen } from './freezer';
import { createTree } from './tree';
import { allPids, removeTrees } from '../tree';
import { readStats } from './stats';

export interface V2Options extends DeviceOptions {
  warn?: (message: string) => void;
}

export class V2Driver implements CgroupDriver {
  readonly paths: Record<string, string>;

  constructor(
    readonly dir: string,
    private readonly opts: V2Options = {},
  ) {
    this.paths = { '': dir };
  }

  create(): string[] {
    return createTree(this.dir);
  }

  join(pid: number): void {
    try {
      writeFile(this.dir, 'cgroup.procs', String(pid), 'cgroup.procs');
    } catch (e) {
      throw new Error(`cannot join cgroup ${this.dir}: ${(e as Error).message}`);
    }
  }

  // runc's fs2 Set order: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma, then unified last so
  // that it can override anything above.
  apply(resources: LinuxResources): void {
    const warn = this.opts.warn ?? ((m: string) => log('warning', m));
    const ctx = makeContext(this.dir, warn);
    setPids(ctx, resources.pids);
    setMemory(ctx, resources.memory);
    setIo(ctx, resources.blockIO);
    setCpu(ctx, resources.cpu);
    setDevices(ctx, resources.devices, this.opts);
    setCpuset(ctx, resources.cpu);
    setHugetlb(ctx, resources.hugepageLimits);
    setRdma(ctx, resources.rdma);
    if (resources.network && (resources.network.classID !== undefined || resources.network.priorities?.length)) {
      warn('linux.resources.network: cgroup v2 has no net_cls/net_prio controllers; ignored');
    }
    setUnified(ctx, resources.unified);
  }

  pids(): number[] {
    return allPids(this.dir);
  }

  isPaused(): boolean {
    return isFrozen(this.dir);
  }

  freeze(frozen: boolean): void {
    setFrozen(this.dir, frozen);
  }

  kill(signal: number): void {
    killAll(this.dir, signal);
  }

  stats(): CgroupStats {
    return readStats(this.dir);
  }

  destroy(): void {
    const failed = removeTrees([this.dir]);
    if (failed.length) throw new Error(`cannot remove cgroups: ${failed.join('; ')}`);
  }
}

export { buildDeviceProgram, rulesFromSpec } from './devicefilter';
