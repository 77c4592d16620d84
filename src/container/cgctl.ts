// What pause/resume/kill --all/delete/ps need from a container's cgroups, over the stored paths:
// freezing with runc's retry and state rules, every pid (recursively), signalling all, removal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupManager } from '../cgroups/manager';
import { controllerDir } from '../cgroups/v1/stats';
import { sleepMs } from '../linux/sleep';

// A pure cgroup2 host has only the unified hierarchy; a hybrid one freezes through v1, as runc does.
export function isUnifiedOnly(paths: Record<string, string>): boolean {
  return paths[''] !== undefined && Object.keys(paths).every((k) => k === '');
}

const readTrim = (file: string) => fs.readFileSync(file, 'utf8').trim();

// runc's GetState: FREEZING is transient, so wait it out; FROZEN only through an ancestor
// (freezer.self_freezing 0) is not this container being paused.
export function isPaused(paths: Record<string, string>): boolean {
  if (isUnifiedOnly(paths)) {
    try {
      return readTrim(path.join(paths[''], 'cgroup.freeze')) === '1';
    } catch {
      return false;
    }
  }
  const dir = controllerDir(paths, 'freezer');
  if (!dir) return false;
  for (let i = 0; ; i++) {
    let state: string;
    try {
      state = readTrim(path.join(dir, 'freezer.state'));
    } catch {
      return false;
    }
    if (state === 'FREEZING' && i < 10_000) {
      sleepMs(1);
      continue;
    }
    if (state !== 'FROZEN') return false;
    try {
      return readTrim(path.join(dir, 'freezer.self_freezing')) !== '0';
    } catch {
      return true;
    }
  }
}

// Freezes or thaws and returns once the kernel reports the new state. A v1 freeze can stay in
// FREEZING while processes keep forking; like runc, retry (thawing now and then) and, if it never
// settles, leave the cgroup thawed rather than half frozen, and fail.
export function setFrozen(paths: Record<string, string>, frozen: boolean): void {
  if (isUnifiedOnly(paths)) return setFrozenV2(paths[''], frozen);
  const dir = controllerDir(paths, 'freezer');
  if (!dir) throw new Error('cgroup freezer is not available');
  const file = path.join(dir, 'freezer.state');
  if (!frozen) {
    fs.writeFileSync(file, 'THAWED');
    for (let i = 0; i < 1000 && readTrim(file) !== 'THAWED'; i++) sleepMs(1);
    return;
  }
  for (let i = 0; i < 1000; i++) {
    if (i % 50 === 49) {
      fs.writeFileSync(file, 'THAWED');
      sleepMs(10);
    }
    fs.writeFileSync(file, 'FROZEN');
    if (i % 25 === 24) sleepMs(1);
    const state = readTrim(file);
    if (state === 'FROZEN') return;
    if (state !== 'FREEZING') throw new Error(`unexpected state ${state} after writing FROZEN`);
  }
  fs.writeFileSync(file, 'THAWED');
  throw new Error('unable to freeze');
}

// cgroup.freeze is a request; cgroup.events "frozen" says when every task has stopped.
function setFrozenV2(dir: string, frozen: boolean): void {
  fs.writeFileSync(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
  const want = frozen ? 'frozen 1' : 'frozen 0';
  for (let i = 0; i < 5000; i++) {
    let events: string;
    try {
      events = fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8');
    } catch {
      return;
    }
    if (events.split('\n').includes(want)) return;
    sleepMs(1);
  }
  if (frozen) {
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0');
    throw new Error('unable to freeze');
  }
}

// The directory runc lists processes from, and every cgroup below it.
function pidsRoot(paths: Record<string, string>): string | undefined {
  return controllerDir(paths, 'pids') ?? controllerDir(paths, 'freezer') ?? controllerDir(paths, 'devices') ?? paths[''] ?? Object.values(paths)[0];
}

// Every pid in the container's cgroup and its sub-cgroups (runc's GetAllPids), in walk order.
export function allPids(paths: Record<string, string>): number[] {
  const root = pidsRoot(paths);
  if (!root) return [];
  const out: number[] = [];
  const walk = (dir: string) => {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const l of text.split('\n')) if (l) out.push(Number(l));
    let subs: fs.Dirent[];
    try {
      subs = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of subs.filter((x) => x.isDirectory()).map((x) => x.name).sort()) walk(path.join(dir, d));
  };
  walk(root);
  return out;
}

export function cgroupExists(paths: Record<string, string>): boolean {
  const root = pidsRoot(paths);
  return !!root && fs.existsSync(root);
}

// runc's signalAllProcesses: freeze, signal every pid, thaw (also when it was paused before, so a
// SIGKILL takes effect). A freezer failure is not fatal: signal what is there.
export function signalAll(paths: Record<string, string>, sig: number): void {
  if (isUnifiedOnly(paths) && sig === 9 && fs.existsSync(path.join(paths[''], 'cgroup.kill'))) {
    // cgroup.kill kills the whole subtree atomically, frozen or not: nothing can fork away.
    fs.writeFileSync(path.join(paths[''], 'cgroup.kill'), '1');
    return;
  }
  try {
    setFrozen(paths, true);
  } catch {
    /* no freezer or it would not settle: best effort, as runc */
  }
  try {
    for (const pid of allPids(paths)) {
      try {
        process.kill(pid, sig);
      } catch {
        /* exited meanwhile */
      }
    }
  } finally {
    try {
      setFrozen(paths, false);
    } catch {
      /* nothing to thaw */
    }
  }
}

// Removes the container's cgroups bottom-up, including sub-cgroups its processes made.
export function destroyCgroups(paths: Record<string, string>): void {
  const rmChildren = (dir: string) => {
    let subs: fs.Dirent[];
    try {
      subs = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of subs) {
      if (!d.isDirectory()) continue;
      const sub = path.join(dir, d.name);
      rmChildren(sub);
      new CgroupManager({ sub }).destroy();
    }
  };
  for (const dir of Object.values(paths)) rmChildren(dir);
  new CgroupManager(paths).destroy();
}
