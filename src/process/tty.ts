// The foreground terminal of `run -t` (and `exec -t`): the pty master received over our own console
// socket, our terminal in raw mode, stdin -> master and master -> stdout, and the window size followed.
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { clearOnlcr, getTermios, setTermios } from '../linux/termios';

/**
 * The master the init (or exec's stub) sent over sock (one recvmsg; it is sent before READY, so this does not block
 * once create has returned). Exactly one fd must come, as containerd and conmon expect; sock stays open.
 */
export function receiveMaster(sock: number): number {
  const { fds } = libc().recvFds(sock, 4096, 4);
  if (fds.length !== 1) {
    for (const fd of fds) fs.closeSync(fd);
    throw new Error(`console socket: expected exactly one fd, got ${fds.length}`);
  }
  return fds[0];
}

// Our own terminal: the first of stderr, stdout, stdin that is one (runc's initHostConsole order).
function hostConsole(): number | undefined {
  return [2, 1, 0].find((fd) => tty.isatty(fd));
}

// Our terminal's size, for a pty that should have it before its process starts; undefined without one.
export function hostWindowSize(): { height: number; width: number } | undefined {
  const from = hostConsole();
  if (from === undefined) return undefined;
  const ws = Buffer.alloc(8);
  try {
    libc().ioctlBuf(from, C.TIOCGWINSZ, ws);
  } catch {
    return undefined;
  }
  const size = { height: ws.readUInt16LE(0), width: ws.readUInt16LE(2) };
  return size.height && size.width ? size : undefined;
}

// cfmakeraw(3) on struct termios (c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc[]), but with output
// processing left on, as runc's console library does: the process's "\n" (ONLCR is off on the pty) becomes
// "\r\n" on our terminal, so output lines start at column 0.
function makeRaw(t: Buffer): Buffer {
  const r = Buffer.from(t);
  const T = C.TERMIOS;
  r.writeUInt32LE(r.readUInt32LE(0) & ~(T.IGNBRK | T.BRKINT | T.PARMRK | T.ISTRIP | T.INLCR | T.IGNCR | T.ICRNL | T.IXON), 0);
  r.writeUInt32LE(r.readUInt32LE(4) | T.OPOST, 4);
  r.writeUInt32LE(((r.readUInt32LE(8) & ~(T.CSIZE | T.PARENB)) | T.CS8) >>> 0, 8);
  r.writeUInt32LE(r.readUInt32LE(12) & ~(T.ECHO | T.ECHONL | T.ICANON | T.ISIG | T.IEXTEN), 12);
  r[17 + T.VMIN] = 1;
  r[17 + T.VTIME] = 0;
  return r;
}

// Copies our terminal's size to the master (the kernel then signals SIGWINCH inside).
function copySize(from: number, master: number): void {
  const ws = Buffer.alloc(8);
  try {
    libc().ioctlBuf(from, C.TIOCGWINSZ, ws);
    libc().ioctlBuf(master, C.TIOCSWINSZ, ws);
  } catch {
    // As runc: a terminal gone (SIGHUP races) is not an error.
  }
}

export interface TerminalProxy {
  /** Resolves once the container side of the pty is closed and its output written to our stdout. */
  readonly done: Promise<void>;
  /** Restores our terminal, stops copying and closes the master. Idempotent. */
  close(): void;
}

/**
 * Proxies our stdio to the master until the pty's other side is gone. Our terminal (if any) is put in raw
 * mode now and restored by close() and on process exit (any path, fatal errors included; Node itself also
 * restores the terminal state it started with when SIGINT or SIGTERM kill it). The master's size follows ours: now and on every SIGWINCH. Call it
 * before the process starts, so that it sees the final size from its first instruction.
 */
export function proxyTerminal(master: number): TerminalProxy {
  const host = hostConsole();
  // As runc's ClearONLCR (for exec the stub has done it already, before its process could write).
  clearOnlcr(master);

  let saved: Buffer | undefined;
  const restore = () => {
    if (saved && host !== undefined) {
      try {
        setTermios(host, saved);
      } catch {
        /* terminal gone */
      }
    }
    saved = undefined;
  };
  if (host !== undefined) {
    saved = getTermios(host);
    setTermios(host, makeRaw(saved));
    copySize(host, master);
  }
  const onWinch = () => {
    if (host !== undefined) copySize(host, master);
  };
  process.on('SIGWINCH', onWinch);
  process.on('exit', restore);

  // One libuv handle for both directions (a pty master cannot be reopened).
  const pty = new tty.ReadStream(master);
  const input = process.stdin;
  const toPty = (chunk: Buffer) => {
    pty.write(chunk);
  };
  input.on('data', toPty);
  input.on('error', () => input.off('data', toPty));
  // An errno on the master (EIO once every slave fd is closed) ends the output.
  pty.on('error', () => undefined);

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    process.off('SIGWINCH', onWinch);
    input.off('data', toPty);
    input.pause();
    // Stdin may never end (a terminal, an idle pipe); it must not keep us alive.
    if (typeof (input as { unref?: () => void }).unref === 'function') (input as unknown as { unref(): void }).unref();
    pty.destroy();
    restore();
    process.off('exit', restore);
  };
  const done = new Promise<void>((resolve) => {
    pty.on('data', (chunk: Buffer) => {
      try {
        fs.writeSync(1, chunk);
      } catch {
        /* our reader went away: keep draining so the process does not block */
      }
    });
    pty.on('close', () => resolve());
    pty.on('end', () => resolve());
  });
  pty.resume();
  input.resume();
  return { done, close };
}
