// The last steps before the user's program runs: find it on the container's PATH, make sure no host
// fd or host directory is reachable (CVE-2024-21626), reset signals, and execve.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import { passwdEntry } from '../linux/passwd';
import { CLOSE_RANGE_CLOEXEC, F_SETFD } from '../linux/constants';
import { errnoText } from '../linux/errors';
import { processEnv } from '../process/stage';

export function lookPath(file: string, env: string[]): string {
  if (file.includes('/')) return file;
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const p = path.posix.join(dir || '.', file);
    try {
      const st = fs.statSync(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {
      /* keep looking */
    }
  }
  throw new Error(`exec: "${file}": executable file not found in $PATH`);
}

// HOME from the container's /etc/passwd, as "/" shows it after the pivot.
export const prepareEnv = (env: string[], uid: number): string[] => processEnv(env, () => passwdEntry(uid)?.[5]);

// Run as the container's user with its final capabilities, like runc's eaccess(), so that a program
// the user may not execute (mode, noexec mount) fails `create` rather than the later `start`.
export function checkExecutable(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`exec: "${file}": ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new Error(`exec: "${file}": is a directory`);
  try {
    libc().eaccess(file, 1 /* X_OK */);
  } catch (e) {
    throw new Error(`exec ${file}: ${errnoText(e)}`);
  }
}

const chdirFailed = (cwd: string, e: unknown) =>
  new Error(`process.cwd: chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: ${errnoText(e)}`);

/**
 * runc changes directory once before switching user, so a cwd only root can enter still works, and
 * once more after it when that first attempt was refused (a directory only the user may enter).
 * Returns false when the second attempt is needed.
 */
export function enterCwdAsRoot(cwd: string): boolean {
  try {
    process.chdir(cwd);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return false;
    throw chdirFailed(cwd, e);
  }
}

// A cwd that came through a leaked fd (e.g. /proc/self/fd/7) lies outside our root; getcwd then
// reports it as unreachable, which Node surfaces as an error or a path not starting with "/".
export function enterCwd(cwd: string, chdir = true): void {
  try {
    if (chdir) process.chdir(cwd);
  } catch (e) {
    throw chdirFailed(cwd, e);
  }
  let real: string;
  try {
    real = process.cwd();
  } catch (e) {
    throw new Error(`process.cwd ${cwd}: current working directory is outside of container mount namespace root: ${(e as Error).message}`);
  }
  if (!real.startsWith('/')) throw new Error(`process.cwd ${cwd}: current working directory is outside of container mount namespace root`);
}

// Everything above stdio and the preserved fds is closed by execve.
// Node marks every fd it inherits close-on-exec at start-up, stdio included: undo that for the
// fds the process is meant to get.
export function closeExtraFds(preserveFds: number): void {
  libc().closeRange(3 + preserveFds, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  for (let fd = 0; fd < 3 + preserveFds; fd++) {
    try {
      libc().fcntl(fd, F_SETFD, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBADF') throw e;
    }
  }
}

// Node ignores SIGPIPE (and ignored signals survive execve); the user's program must start clean.
export function resetSignals(): void {
  for (let sig = 1; sig < 65; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue;
    try {
      libc().signalDefault(sig);
    } catch {
      /* not a real signal */
    }
  }
  libc().unblockAllSignals();
}
