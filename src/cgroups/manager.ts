// Places a container in its cgroups and takes them down again: path resolution as runc does it,
// creation, joining, process listing, freezing and removal. Resource limits come with the cgroups issue.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hierarchyKey, parseProcCgroup, type Hierarchy } from './hierarchy';
import { sleepMs } from '../linux/sleep';

// Resolves linux.cgroupsPath the way runc's cgroupfs driver does: absolute paths are taken from
// each hierarchy's root, relative ones (and the default, the container id) from the runtime's own cgroup.
export function resolvePaths(
  cgroupsPath: string | undefined,
  id: string,
  hierarchies: Hierarchy[],
  own: Map<string, string>,
): Record<string, string> {
  const inner = cgroupsPath ? path.posix.normalize(cgroupsPath) : id;
  if (inner.split('/').includes('..')) throw new Error(`linux.cgroupsPath: must not contain "..": ${cgroupsPath}`);
  const out: Record<string, string> = {};
  for (const h of hierarchies) {
    const key = hierarchyKey(h);
    const base = path.posix.isAbsolute(inner) ? inner : path.posix.join(own.get(key) ?? '/', inner);
    // The mountpoint shows the hierarchy from h.root downwards.
    const rel = path.posix.relative(h.root, base);
    if (rel === '..' || rel.startsWith('../')) throw new Error(`cgroup path ${base} is outside the mounted hierarchy ${h.mountpoint}`);
    out[key] = path.posix.join(h.mountpoint, rel);
  }
  return out;
}

export class CgroupManager {
  constructor(readonly paths: Record<string, string>) {}

  static forContainer(cgroupsPath: string | undefined, id: string, hierarchies: Hierarchy[]): CgroupManager {
    const own = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    return new CgroupManager(resolvePaths(cgroupsPath, id, hierarchies, own));
  }

  // Returns the directories it created, so that a failed create removes only what it made.
  create(): string[] {
    const made: string[] = [];
    for (const [key, dir] of Object.entries(this.paths)) {
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first) made.push(dir);
      if (first && key.split(',').includes('cpuset')) inheritCpuset(first, dir);
    }
    return made;
  }

  join(pid: number): void {
    for (const dir of Object.values(this.paths)) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new Error(`cannot join cgroup ${dir}: ${(e as Error).message}`);
      }
    }
  }

  pids(): number[] {
    const dir = this.paths['pids'] ?? this.paths['freezer'] ?? this.paths['devices'] ?? this.paths[''] ?? Object.values(this.paths)[0];
    if (!dir) return [];
    try {
      return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  private freezerDir(): string | undefined {
    return this.paths['freezer'];
  }

  isPaused(): boolean {
    const dir = this.freezerDir();
    if (dir) {
      try {
        return fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
      } catch {
        return false;
      }
    }
    const v2 = this.paths[''];
    if (v2) {
      try {
        return fs.readFileSync(path.join(v2, 'cgroup.freeze'), 'utf8').trim() === '1';
      } catch {
        return false;
      }
    }
    return false;
  }

  setFrozen(frozen: boolean): void {
    const dir = this.freezerDir();
    if (dir) {
      fs.writeFileSync(path.join(dir, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
      // The v1 freezer passes through FREEZING; wait until it settles so callers see a stable state.
      for (let i = 0; i < 1000 && frozen; i++) {
        if (fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN') break;
        sleepMs(1);
      }
    }
    const v2 = this.paths[''];
    if (v2 && fs.existsSync(path.join(v2, 'cgroup.freeze'))) fs.writeFileSync(path.join(v2, 'cgroup.freeze'), frozen ? '1' : '0');
  }

  // rmdir fails with EBUSY while a dying process is still being removed; retry for a short while.
  destroy(): void {
    const errors: string[] = [];
    for (const dir of Object.values(this.paths)) {
      for (let i = 0; ; i++) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code === 'EBUSY' && i < 500) {
            sleepMs(2);
            continue;
          }
          errors.push(`${dir}: ${(e as Error).message}`);
          break;
        }
      }
    }
    if (errors.length) throw new Error(`cannot remove cgroups: ${errors.join('; ')}`);
  }
}

// A new v1 cpuset cgroup starts with no cpus and no mems, and refuses tasks (ENOSPC) until they are
// set: copy them down from the parent for every level we created.
function inheritCpuset(firstCreated: string, leaf: string): void {
  const levels: string[] = [];
  for (let d = leaf; d.length >= firstCreated.length; d = path.dirname(d)) levels.unshift(d);
  for (const d of levels) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const cur = fs.readFileSync(path.join(d, f), 'utf8').trim();
      if (!cur) fs.writeFileSync(path.join(d, f), fs.readFileSync(path.join(path.dirname(d), f), 'utf8').trim());
    }
  }
}
