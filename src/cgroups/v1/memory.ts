// v1 memory controller: limit/swap in runc's write order, reservation, OOM killer, swappiness, hierarchy.
// kernel/kernelTCP are ignored with a warning, as runc 1.1 does (the kernel no longer honours kmem limits).
import type { LinuxResources } from '../../oci';
import { warn } from '../../log';
import { CgroupWriteError, R, num, readValue, set, writeValue, type Controller } from './fs';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIMIT = 'memory.limit_in_bytes';
const MEMSW = 'memory.memsw.limit_in_bytes';
const F = `${R}.memory`;

function setLimit(dir: string, v: number): void {
  if (v === 0) return;
  try {
    writeValue(dir, LIMIT, num(v), `${F}.limit`);
  } catch (e) {
    // EBUSY: the kernel could not reclaim down to the new limit; say how far off it is, as runc does.
    if (!(e instanceof CgroupWriteError) || e.code !== 'EBUSY') throw e;
    const usage = readValue(dir, 'memory.usage_in_bytes');
    const peak = readValue(dir, 'memory.max_usage_in_bytes');
    throw new Error(`${F}.limit: unable to set memory limit to ${num(v)} (current usage: ${usage}, peak usage: ${peak})`);
  }
}

const setSwap = (dir: string, v: number) => v !== 0 && writeValue(dir, MEMSW, num(v), `${F}.swap`);

// The kernel requires limit <= memsw at every step, so the order of the two writes depends on
// whether the pair grows or shrinks.
export function setMemoryAndSwap(dir: string, limit: number, swap: number): void {
  // An unlimited memory without an explicit swap makes the swap unlimited too.
  if (limit === -1 && swap === 0 && fs.existsSync(path.join(dir, MEMSW))) swap = -1;
  if (limit !== 0 && swap !== 0) {
    const cur = BigInt(readValue(dir, LIMIT));
    if (swap === -1 || cur < BigInt(num(swap))) {
      setSwap(dir, swap);
      setLimit(dir, limit);
      return;
    }
  }
  setLimit(dir, limit);
  setSwap(dir, swap);
}

export const memory: Controller = {
  name: 'memory',
  requested(r: LinuxResources) {
    const m = r.memory ?? {};
    const out: string[] = [];
    for (const k of ['limit', 'reservation', 'swap'] as const) if (set(m[k])) out.push(`${F}.${k}`);
    if (m.swappiness !== undefined) out.push(`${F}.swappiness`);
    if (m.disableOOMKiller) out.push(`${F}.disableOOMKiller`);
    if (m.useHierarchy !== undefined) out.push(`${F}.useHierarchy`);
    return out;
  },
  set(dir, r) {
    const m = r.memory;
    if (!m) return;
    setMemoryAndSwap(dir, m.limit ?? 0, m.swap ?? 0);
    if (set(m.kernel) || set(m.kernelTCP)) warn('Kernel memory settings are ignored and will be removed');
    if (set(m.reservation)) writeValue(dir, 'memory.soft_limit_in_bytes', num(m.reservation), `${F}.reservation`);
    if (m.disableOOMKiller) writeValue(dir, 'memory.oom_control', '1', `${F}.disableOOMKiller`);
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (m.swappiness < 0 || m.swappiness > 100) throw new Error(`${F}.swappiness: invalid memory swappiness value: ${m.swappiness} (valid range is 0-100)`);
      writeValue(dir, 'memory.swappiness', num(m.swappiness), `${F}.swappiness`);
    }
    // runc ignores useHierarchy; the kernel still has the file (and only accepts 1 since 5.x).
    if (m.useHierarchy !== undefined) writeValue(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${F}.useHierarchy`);
    // checkBeforeUpdate needs nothing on v1: the kernel itself refuses a limit below the usage (EBUSY).
  },
};
