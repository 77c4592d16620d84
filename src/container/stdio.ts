// Foreground `run` without a terminal gives the container fresh pipes and copies between them and
// our own stdio, as runc does; the container never holds the caller's descriptors.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';

export interface StdioPipes {
  // The ends the container gets as 0, 1, 2.
  container: [number, number, number];
  // Starts copying once the container ends have been handed over; resolves when output is drained.
  copy(): Promise<void>;
}

function drain(from: number, to: number): Promise<void> {
  return new Promise((resolve) => {
    const s = fs.createReadStream('', { fd: from, autoClose: true, highWaterMark: 64 * 1024 });
    s.on('data', (chunk) => {
      try {
        fs.writeSync(to, chunk as Buffer);
      } catch {
        /* our reader went away: keep draining so the container does not block */
      }
    });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

export function stdioPipes(rootUid: number, rootGid: number): StdioPipes {
  const l = libc();
  const [inR, inW] = l.pipe();
  const [outR, outW] = l.pipe();
  const [errR, errW] = l.pipe();
  // The container's root (a mapped uid in a user namespace) must be able to reopen its stdio.
  for (const fd of [inR, outW, errW]) fs.fchownSync(fd, rootUid, rootGid);
  return {
    container: [inR, outW, errW],
    copy() {
      for (const fd of [inR, outW, errW]) fs.closeSync(fd);
      const input = fs.createReadStream('', { fd: 0, autoClose: false });
      const sink = fs.createWriteStream('', { fd: inW, autoClose: true });
      input.pipe(sink);
      input.on('error', () => sink.end());
      sink.on('error', () => input.unpipe(sink));
      // Stdin may never end (a terminal, an idle pipe); it must not keep us alive.
      return Promise.all([drain(outR, 1), drain(errR, 2)]).then(() => {
        input.unpipe(sink);
        input.destroy();
        sink.destroy();
      });
    },
  };
}
