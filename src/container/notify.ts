// NOTIFY_SOCKET: the sd_notify proxy between the container and the host's socket, as runc 1.1 does it.
// create puts <state dir>/notify at /run/notify in the container; run/start bind notify.sock there and forward READY.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import { sleepMs } from '../linux/sleep';
import type { Mount } from '../oci';

const DIR = 'notify';
const SOCK = 'notify.sock';
const IN_CONTAINER = '/run/notify';
const AF_UNIX = 1;
const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;

export function notifyHost(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.NOTIFY_SOCKET || undefined;
}

// create: the directory the socket will be bound in, bind-mounted read-only (the socket stays writable), and the
// container's NOTIFY_SOCKET. Returns what the init gets; the stored config stays the bundle's, as runc's exec
// reads the bundle and never sees these.
export function notifySpec(stateDir: string): { mount: Mount; env: string } {
  const dir = path.join(stateDir, DIR);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  return {
    mount: { destination: IN_CONTAINER, type: 'bind', source: dir, options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'] },
    env: `NOTIFY_SOCKET=${IN_CONTAINER}/${SOCK}`,
  };
}

// Paths longer than sun_path (containerd's state dirs with 64-hex ids come close) go through an O_PATH fd.
function viaShortPath<T>(p: string, fn: (short: string) => T): T {
  if (p.startsWith('@') || Buffer.byteLength(p) < 100) return fn(p);
  const dfd = fs.openSync(path.dirname(p), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | 0o10000000 /* O_PATH */);
  try {
    return fn(`/proc/self/fd/${dfd}/${path.basename(p)}`);
  } finally {
    fs.closeSync(dfd);
  }
}

function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

export class NotifyProxy {
  private constructor(
    private readonly fd: number,
    private readonly host: string,
  ) {}

  // run binds before start, start before it releases the init: nothing the container sends is lost.
  static listen(stateDir: string, host: string): NotifyProxy {
    const sockPath = path.join(stateDir, DIR, SOCK);
    const l = libc();
    const fd = l.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
    try {
      fs.rmSync(sockPath, { force: true });
      viaShortPath(sockPath, (p) => l.unixBind(fd, p));
      // Any container user may notify.
      fs.chmodSync(sockPath, 0o777);
    } catch (e) {
      fs.closeSync(fd);
      throw new Error(`notify socket ${sockPath}: ${(e as Error).message}`);
    }
    return new NotifyProxy(fd, host);
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }

  // The first line of the first datagram starting with READY=; anything else the container says is dropped, as by runc.
  private poll(): Buffer | undefined {
    const buf = Buffer.alloc(4096);
    for (;;) {
      const n = libc().recvDontWait(this.fd, buf);
      if (n < 0) return undefined;
      const got = buf.subarray(0, n);
      if (got.subarray(0, 6).toString() === 'READY=') {
        const nl = got.indexOf(10);
        return Buffer.from(nl < 0 ? got : got.subarray(0, nl));
      }
    }
  }

  // READY, then MAINPID (the init for create/start and run -d; ourselves for a foreground run, the process the
  // service manager should watch). runc 1.1.5 sends no BARRIER=1 after them (later runc does), nor does ocirun.
  private forward(ready: Buffer, mainPid: number): void {
    const l = libc();
    const c = l.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
    try {
      viaShortPath(this.host, (p) => l.unixConnect(c, p));
      l.send(c, Buffer.concat([ready, Buffer.from('\n')]));
      l.send(c, Buffer.from(`MAINPID=${mainPid}\n`));
    } finally {
      fs.closeSync(c);
    }
  }

  // Blocks until the container is ready (forwarded) or its init is gone (nothing sent).
  waitSync(initPid: number, mainPid: number): void {
    try {
      for (;;) {
        const ready = this.poll();
        if (ready) return this.forward(ready, mainPid);
        if (gone(initPid)) return;
        sleepMs(20);
      }
    } finally {
      this.close();
    }
  }

  // The same for a foreground run, off the event loop's critical path: stdio and signals keep flowing meanwhile.
  // Errors are dropped, as runc drops them there.
  waitAsync(initPid: number, mainPid: number): { stop(): void } {
    const timer = setInterval(() => {
      let done = false;
      try {
        const ready = this.poll();
        if (ready) {
          done = true;
          this.forward(ready, mainPid);
        } else {
          done = gone(initPid);
        }
      } catch {
        done = true;
      }
      if (done) stop();
    }, 20);
    const stop = () => {
      clearInterval(timer);
      this.close();
    };
    return { stop };
  }
}
