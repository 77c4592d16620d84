// The fds a caller hands to the container above stdio: systemd socket activation (LISTEN_FDS) first,
// then --preserve-fds N, all at the numbers the caller gave them (3 upwards), as runc passes them.
import * as fs from 'node:fs';

// Node's event loop opens its first fd (an epoll instance) at start-up, on the lowest free number: every
// fd below it came from our caller, none at or above it did. runc cannot tell either and passes one of its
// own fds when the caller gave fewer than it asked for; ocirun refuses instead of leaking a runtime fd.
function firstOwnFd(): number {
  let first = Infinity;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd < 3 || fd >= first) continue;
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]') first = fd;
    } catch {
      /* the readdir's own fd */
    }
  }
  return first;
}

function given(fd: number, limit: number): boolean {
  if (fd >= limit) return false;
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

// As runc (go-systemd's activation.Files): LISTEN_FDS counts only when LISTEN_PID is our pid.
export function listenFds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LISTEN_FDS);
  if (!env.LISTEN_FDS || !Number.isInteger(n) || n <= 0) return 0;
  if (Number(env.LISTEN_PID) !== process.pid) return 0;
  return n;
}

// Every fd the container is to get must have come from our caller.
export function checkPassedFds(preserve: number, env: NodeJS.ProcessEnv = process.env): void {
  const listen = listenFds(env);
  const limit = firstOwnFd();
  for (let i = 0; i < listen; i++) {
    if (!given(3 + i, limit)) throw new Error(`LISTEN_FDS=${listen}: fd ${3 + i} was not passed to ocirun: bad file descriptor`);
  }
  const base = 3 + listen;
  for (let i = 0; i < preserve; i++) {
    const fd = base + i;
    if (!given(fd, limit)) {
      throw new Error(`unable to stat preserved-fd ${i} (of ${preserve}): stat /proc/self/fd/${fd}: no such file or directory`);
    }
  }
}
