// v1 cpuset controller: cpus then mems, and the inheritance a new cpuset cgroup needs before it takes tasks.
// Owns inheritCpuset: a new v1 cpuset directory starts empty and refuses tasks (ENOSPC) until filled.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { R, writeValue, type Controller } from './fs';

export const cpuset: Controller = {
  name: 'cpuset',
  requested(r) {
    const out: string[] = [];
    if (r.cpu?.cpus) out.push(`${R}.cpu.cpus`);
    if (r.cpu?.mems) out.push(`${R}.cpu.mems`);
    return out;
  },
  set(dir, r) {
    if (r.cpu?.cpus) writeValue(dir, 'cpuset.cpus', r.cpu.cpus, `${R}.cpu.cpus`);
    if (r.cpu?.mems) writeValue(dir, 'cpuset.mems', r.cpu.mems, `${R}.cpu.mems`);
  },
};

// Copies cpus and mems down from the parent into every level from firstCreated to leaf.
export function inheritCpuset(firstCreated: string, leaf: string): void {
  const levels: string[] = [];
  for (let d = leaf; d.length >= firstCreated.length; d = path.dirname(d)) levels.unshift(d);
  for (const d of levels) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const cur = fs.readFileSync(path.join(d, f), 'utf8').trim();
      if (!cur) fs.writeFileSync(path.join(d, f), fs.readFileSync(path.join(path.dirname(d), f), 'utf8').trim());
    }
  }
}
