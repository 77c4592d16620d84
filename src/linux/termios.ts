// termios(3) on a tty fd through TCGETS/TCSETS: the raw struct, and runc's ClearONLCR.
// Used by the foreground proxy (src/process/tty.ts); an exec's pty has ONLCR cleared by the stub (stub/console.c).
import { libc } from './libc';
import * as C from './constants';

export function getTermios(fd: number): Buffer {
  const t = Buffer.alloc(60);
  libc().ioctlBuf(fd, C.TCGETS, t);
  return t;
}

export function setTermios(fd: number, t: Buffer): void {
  libc().ioctlBuf(fd, C.TCSETS, Buffer.from(t));
}

// The bytes the process writes reach the proxy as written (no "\n" -> "\r\n"): the proxy's own terminal
// does that translation once, as with runc.
export function clearOnlcr(fd: number): void {
  const t = getTermios(fd);
  t.writeUInt32LE(t.readUInt32LE(4) & ~C.TERMIOS.ONLCR, 4);
  setTermios(fd, t);
}
