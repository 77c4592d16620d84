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

// Every directory below dir, deepest first, then dir itself.
function subtree(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return [...entries.filter((e) => e.isDirectory()).flatMap((e) => subtree(path.join(dir, e.name))), dir];
}

// Removes every tree, retrying the cgroups the kernel still reports busy (an exiting process not yet
// taken out) all together, for about a second in all, as runc's RemovePaths does. Returns what stayed,
// as "<dir>: <error>" lines: a cgroup that still holds someone else's processes cannot go.
export function removeTrees(dirs: string[]): string[] {
  let left = dirs.flatMap(subtree);
  let failed: string[] = [];
  for (let round = 0; left.length && round < 500; round++) {
    if (round) sleepMs(2);
    const retry: string[] = [];
    let busy = false;
    failed = [];
    for (const d of left) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        failed.push(`${d}: ${(e as Error).message}`);
        busy ||= code === 'EBUSY';
        // A parent is not empty while a busy child is still there: it goes in the same retry.
        if (code === 'EBUSY' || code === 'ENOTEMPTY') retry.push(d);
      }
    }
    if (!busy) break;
    left = retry;
  }
  return failed;
}
