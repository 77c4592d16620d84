// cgroup2 freezing and killing: cgroup.freeze with the wait for cgroup.events "frozen", and
// cgroup.kill (kernel 5.14+) or, for other signals, freeze + signal every process + thaw.
import * as fs from 'node:fs';
import { sleepMs } from '../../linux/sleep';
import { exists, readOptional, writeFile } from './files';
import { allPids } from '../tree';

const FREEZE_TIMEOUT_MS = 10_000;

export function isFrozen(dir: string): boolean {
  return (readOptional(dir, 'cgroup.freeze') ?? '0').trim() === '1';
}

function eventsFrozen(dir: string): boolean | undefined {
  const events = readOptional(dir, 'cgroup.events');
  if (events === undefined) return undefined;
  const m = /^frozen (\d)$/m.exec(events);
  return m ? m[1] === '1' : undefined;
}

// Returns once cgroup.events agrees. A freeze that does not settle within 10 s (runc's bound) is
// undone before the error, so a failed pause never leaves a frozen cgroup behind.
export function setFrozen(dir: string, frozen: boolean): void {
  if (!exists(dir, 'cgroup.freeze')) {
    if (!frozen) return;
    throw new Error(`cannot freeze ${dir}: cgroup.freeze is missing (the cgroup v2 freezer needs kernel 5.2)`);
  }
  writeFile(dir, 'cgroup.freeze', frozen ? '1' : '0', 'cgroup.freeze');
  const start = Date.now();
  for (let i = 0; ; i++) {
    const now = eventsFrozen(dir);
    if (now === undefined || now === frozen) return;
    // Processes killed while frozen that nobody has reaped yet keep cgroup.events at "frozen 1" after
    // a thaw (seen on 6.18); with nothing but zombies left there is nothing to freeze or thaw.
    if (onlyZombies(dir)) return;
    if (Date.now() - start > FREEZE_TIMEOUT_MS) {
      if (frozen) writeFile(dir, 'cgroup.freeze', '0', 'cgroup.freeze');
      throw new Error(`timed out waiting for ${dir} to ${frozen ? 'freeze' : 'thaw'}`);
    }
    sleepMs(i < 10 ? 1 : 10);
  }
}

function onlyZombies(dir: string): boolean {
  return allPids(dir).every((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
    } catch {
      return true;
    }
  });
}

export function killAll(dir: string, signal: number): void {
  if (signal === 9 && exists(dir, 'cgroup.kill')) {
    // One write kills the whole subtree, forking processes included, without a freeze.
    writeFile(dir, 'cgroup.kill', '1', 'cgroup.kill');
    return;
  }
  const wasFrozen = isFrozen(dir);
  let froze = false;
  try {
    if (!wasFrozen) {
      setFrozen(dir, true);
      froze = exists(dir, 'cgroup.freeze');
    }
  } catch {
    // As runc: a freezer that fails does not stop the signals.
  }
  try {
    for (const pid of allPids(dir)) {
      try {
        process.kill(pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
  } finally {
    if (froze) setFrozen(dir, false);
  }
}
