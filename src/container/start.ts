// `start`: releases a created container's init by opening the exec fifo and reading its byte.
// Owns the created -> running transition.
import { O_CLOEXEC } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleepMs } from '../linux/sleep';
import { FIFO, Store, isAlive, status, type StoredState } from './state';

export function start(store: Store, s: StoredState): void {
  const st = status(store, s);
  if (st === 'stopped') throw new Error('cannot start a container that has stopped');
  if (st !== 'created') throw new Error(`cannot start an already ${st} container`);
  const fifo = path.join(store.dir(s.id), FIFO);
  // Non-blocking: a blocking open would hang forever if the init died before opening its end.
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | O_CLOEXEC);
  const buf = Buffer.alloc(1);
  try {
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n === 1) break;
      // Nothing yet (no writer, or a writer that has not written): the init must still be alive.
      if (!isAlive(s)) throw new Error('cannot start a container that has stopped');
      sleepMs(1);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.rmSync(fifo, { force: true });
}
