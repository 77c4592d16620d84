// `update`: changes a running (or created, or paused) container's resources and records them in state.json.
// Owns runc 1.1's rules: which fields update may change, the quota/period pairing, the rollback on failure.
import * as fs from 'node:fs';
import type { LinuxResources } from '../oci';
import { cgroupDriver } from '../cgroups';
import { warn } from '../log';
import { Store, status } from './state';

export interface UpdateRequest {
  resources: LinuxResources;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const nz = (v: number | undefined): number | undefined => (v === undefined || v === 0 ? undefined : v);
const compact = <T extends object>(o: T): T | undefined => {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
  return Object.keys(out).length ? out : undefined;
};

// The part of a LinuxResources that runc's update applies (everything else in --resources is ignored,
// devices included: runc sets SkipDevices so that rules added by hooks survive), zeros dropped.
export function updatableResources(r: LinuxResources): LinuxResources {
  const m = r.memory ?? {};
  const c = r.cpu ?? {};
  const out: LinuxResources = {
    memory: compact({ limit: nz(m.limit), reservation: nz(m.reservation), swap: nz(m.swap) }),
    cpu: compact({
      shares: nz(c.shares),
      quota: nz(c.quota),
      period: nz(c.period),
      burst: c.burst,
      realtimeRuntime: nz(c.realtimeRuntime),
      realtimePeriod: nz(c.realtimePeriod),
      cpus: c.cpus || undefined,
      mems: c.mems || undefined,
    }),
    blockIO: compact({ weight: nz(r.blockIO?.weight) }),
    pids: r.pids && r.pids.limit !== 0 ? { limit: r.pids.limit } : undefined,
    unified: r.unified,
  };
  return compact(out) ?? {};
}

// Set values replace the stored ones, unset ones keep them: so `state` and the next update see the
// limits the cgroup has. (runc's stored config zeroes what an update leaves out; its files do not change.)
export function mergeResources(old: LinuxResources | undefined, upd: LinuxResources): LinuxResources {
  const out: LinuxResources = { ...old };
  if (upd.memory) out.memory = { ...old?.memory, ...upd.memory };
  if (upd.cpu) out.cpu = { ...old?.cpu, ...upd.cpu };
  if (upd.blockIO) out.blockIO = { ...old?.blockIO, ...upd.blockIO };
  if (upd.pids) out.pids = upd.pids;
  if (upd.unified) out.unified = { ...old?.unified, ...upd.unified };
  return out;
}

export function updateContainer(store: Store, id: string, req: UpdateRequest): void {
  const lock = store.lock(id);
  try {
    const s = store.load(id);
    const r = updatableResources(req.resources);
    if (req.resources.memory?.kernel || req.resources.memory?.kernelTCP) warn('Kernel memory settings are ignored and will be removed');
    // No resctrl on this host, as runc reports when it has none.
    if (req.l3CacheSchema) throw new Error('Intel RDT/CAT: l3 cache schema is not enabled');
    if (req.memBwSchema) throw new Error('Intel RDT/MBA: memory bandwidth schema is not enabled');
    if (status(store, s) === 'stopped') throw new Error('container not running');
    const cg = cgroupDriver(s.cgroupPaths);
    try {
      cg.apply(r);
    } catch (e) {
      try {
        cg.apply(updatableResources(s.config.linux?.resources ?? {}));
      } catch (e2) {
        warn(`Setting back cgroup configs failed due to error: ${(e2 as Error).message}, your state.json and actual configs might be inconsistent.`);
      }
      throw e;
    }
    s.config.linux = { ...s.config.linux, resources: mergeResources(s.config.linux?.resources, r) };
    store.save(s);
  } finally {
    fs.closeSync(lock);
  }
}
