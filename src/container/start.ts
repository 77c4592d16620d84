// `start`: releases a created container's init through the exec fifo, waits until it has exec'd the user's program
// (or failed: startContainer hooks), then runs poststart. Owns the created -> running transition and its failures.
import { F_GETFL, F_SETFL, O_CLOEXEC } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import { sleepMs } from '../linux/sleep';
import { FIFO, Store, isAlive, status, type StoredState } from './state';
import { runPoststart } from './hooks';
import { deleteContainer } from './delete';
import { waitGone } from './create';

// hookCwd: where poststart (and, on failure, poststop) hooks run; runc's is its own cwd, the bundle for `run`.
export function start(store: Store, s: StoredState, hookCwd = process.cwd()): void {
  const st = status(store, s);
  if (st === 'stopped') throw new Error('cannot start a container that has stopped');
  if (st !== 'created') throw new Error(`cannot start an already ${st} container`);
  const fifo = path.join(store.dir(s.id), FIFO);
  // Non-blocking: a blocking open would hang forever if the init died before opening its end.
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | O_CLOEXEC);
  let rest: Buffer;
  try {
    awaitFirstByte(fd, () => isAlive(s));
    rest = readToEof(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.rmSync(fifo, { force: true });
  const failure = initFailure(s, rest);
  // runtime.md lifecycle steps 7 and 9: a failing startContainer or poststart hook is an error, the container is
  // stopped, and the lifecycle goes on at step 12 (destroy) and 13 (poststop hooks).
  if (failure !== undefined) {
    deleteContainer(store, s, true, hookCwd);
    throw new Error(failure);
  }
  try {
    runPoststart(s, status(store, s), hookCwd);
  } catch (e) {
    deleteContainer(store, s, true, hookCwd);
    throw e;
  }
}

export function awaitFirstByte(fd: number, alive: () => boolean): void {
  const buf = Buffer.alloc(1);
  for (;;) {
    // Liveness is sampled before the read: between an empty read and a later check the init may write its
    // byte, exec and the process exit (a short program, a loaded machine), and that container did start.
    // Dead before a read that found nothing, it never wrote.
    const wasAlive = alive();
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
    if (n === 1) return;
    if (!wasAlive) throw new Error('cannot start a container that has stopped');
    sleepMs(1);
  }
}

// The init holds its end open (close-on-exec) through the startContainer hooks until execve, or writes why it
// failed and exits: either way the end comes as EOF, so a blocking read is safe now that the writer exists.
function readToEof(fd: number): Buffer {
  libc().fcntl(fd, F_SETFL, libc().fcntl(fd, F_GETFL, 0) & ~fs.constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

// Bytes after the first are the init's last words only if it then died: the fifo is writable by anyone (0622),
// and text from someone else must not fail a container whose process is running.
function initFailure(s: StoredState, rest: Buffer): string | undefined {
  if (rest.length === 0) return undefined;
  waitGone(s.pid, 5_000);
  return isAlive(s) ? undefined : rest.toString('utf8');
}
