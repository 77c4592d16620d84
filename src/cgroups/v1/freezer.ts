// v1 freezer controller: freezer.state, with runc's retry schedule for cgroups that stay FREEZING
// while processes keep appearing (the kernel's v1 freezer cannot always catch them in one pass).
import { sleepMs } from '../../linux/sleep';
import { readValue, writeValue, type Controller } from './fs';

export const freezer: Controller = { name: 'freezer', requested: () => [], set: () => {} };

export const isFrozen = (dir: string): boolean => {
  try {
    return readValue(dir, 'freezer.state') === 'FROZEN';
  } catch {
    return false;
  }
};

export function setFreezerState(dir: string, frozen: boolean): void {
  if (!frozen) {
    writeValue(dir, 'freezer.state', 'THAWED', 'freezer.state');
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
  throw new Error('unable to freeze');
}
