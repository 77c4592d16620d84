// Walking a container's cgroup subtree, for either version: every pid in it (runc's GetAllPids) and its
// removal, deepest first, retrying while the kernel still reports a cgroup busy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleepMs } from '../linux/sleep';

// The processes of dir and of every cgroup below it (runc's GetAllPids), as `ps` and kill --all need them.
export function allPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let procs: string;
    try {
      procs = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
    } catch (e) {
      // Removed meanwhile (or never made): nothing there. Anything else is the caller's to report.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const l of procs.split('\n')) if (l.trim()) out.push(Number(l));
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.filter((x) => x.isDirectory()).map((x) => x.name).sort()) walk(path.join(d, e));
  };
  walk(dir);
  return out;
}

function rmdirRetrying(d: string): void {
  for (let i = 0; ; i++) {
    try {
      fs.rmdirSync(d);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY while an exiting process is still being taken out of the cgroup.
      if (code === 'EBUSY' && i < 500) {
        sleepMs(2);
        continue;
      }
      throw new Error(`${d}: ${(e as Error).message}`);
    }
  }
}

export function removeTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  rmdirRetrying(dir);
}
