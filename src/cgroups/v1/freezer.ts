// v1 freezer controller: freezer.state, with runc's retry schedule for cgroups that stay FREEZING
// while processes keep appearing (the kernel's v1 freezer cannot always catch them in one pass).
import { sleepMs } from '../../linux/sleep';
import { readValue, writeValue, type Controller } from './fs';

export const freezer: Controller = { name: 'freezer', requested: () => [], set: () => {} };

// runc's GetState: FREEZING is transient, so wait it out (for a second at most: setFreezerState never
// leaves it behind); FROZEN only through an ancestor (freezer.self_freezing 0) is not this container paused.
export function isFrozen(dir: string): boolean {
  for (let i = 0; ; i++) {
    let state: string;
    try {
      state = readValue(dir, 'freezer.state');
    } catch {
      return false;
    }
    if (state === 'FREEZING' && i < 1000) {
      sleepMs(1);
      continue;
    }
    if (state !== 'FROZEN') return false;
    try {
      return readValue(dir, 'freezer.self_freezing') !== '0';
    } catch {
      return true;
    }
  }
}

// Returns once the kernel reports the new state. A freeze that never settles leaves the cgroup
// thawed rather than half frozen, and fails.
export function setFreezerState(dir: string, frozen: boolean): void {
  if (!frozen) {
    writeValue(dir, 'freezer.state', 'THAWED', 'freezer.state');
    for (let i = 0; i < 1000 && readValue(dir, 'freezer.state') !== 'THAWED'; i++) sleepMs(1);
    return;
  }
  for (let i = 0; i < 1000; i++) {
    if (i % 50 === 49) {
      // Thawing now and then lets a forking workload settle so that the next pass can catch it.
      writeValue(dir, 'freezer.state', 'THAWED', 'freezer.state');
      sleepMs(10);
    }
    writeValue(dir, 'freezer.state', 'FROZEN', 'freezer.state');
    const st = readValue(dir, 'freezer.state');
    if (st === 'FROZEN') return;
    if (st !== 'FREEZING') throw new Error(`unexpected state ${st} while freezing`);
    if (i % 25 === 24) sleepMs(1);
  }
  writeValue(dir, 'freezer.state', 'THAWED', 'freezer.state');
  throw new Error('unable to freeze');
}
