// Checks on config mount destinations that runc makes before mounting, done here on resolved fds:
// nothing may be mounted inside /proc but lxcfs' files, and proc/sysfs only on a real directory.
import { O_CLOEXEC, O_PATH, PROC_SUPER_MAGIC } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount } from '../oci';
import { libc } from '../linux/libc';
import { fdPath, mkdirAllInRoot } from '../linux/inroot';
import { ignoring, isErrno } from '../linux/errors';
import { isBind, parseMountOptions } from './mountopts';

// The files lxcfs emulates, which runc lets a mount cover (validProcMounts in its rootfs_linux.go).
const PROC_FILES_ALLOWED = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
]);

function sourceIsProcfs(bundle: string, m: Mount): boolean {
  let fd = -1;
  try {
    fd = fs.openSync(path.resolve(bundle, m.source ?? ''), O_PATH | O_CLOEXEC);
    return libc().fstatfsType(fd) === PROC_SUPER_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

// dest is the destination inside the rootfs, resolved or lexical. Anything mounted inside /proc could
// cover the files the runtime writes to or the masks rely on (CVE-2019-16884); on /proc itself only
// a procfs is allowed (a fresh one, or a bind of one).
function checkProcPath(bundle: string, dest: string, m: Mount): void {
  if (dest === '/proc') {
    if (isBind(parseMountOptions(m.options), m.type) ? sourceIsProcfs(bundle, m) : m.type === 'proc') return;
    throw new Error(`${JSON.stringify(dest)} cannot be mounted because it is not of type proc`);
  }
  if (dest.startsWith('/proc/') && !PROC_FILES_ALLOWED.has(dest)) {
    throw new Error(`${JSON.stringify(dest)} cannot be mounted because it is inside /proc`);
  }
}

// Before anything is created for the mount.
export function checkDestination(bundle: string, dest: string, m: Mount): void {
  checkProcPath(bundle, path.posix.normalize(dest), m);
}

// After the destination was resolved in the rootfs (symlinks in the image may lead into /proc):
// the same check on where the fd really is. Closes fd when the check fails.
export function checkResolved(rootFd: number, bundle: string, fd: number, m: Mount): number {
  try {
    const root = fs.readlinkSync(fdPath(rootFd));
    const where = fs.readlinkSync(fdPath(fd));
    const rel = path.posix.relative(root, where);
    if (rel === '..' || rel.startsWith('../') || path.posix.isAbsolute(rel)) throw new Error(`${where}: resolved outside the rootfs`);
    checkProcPath(bundle, `/${rel}`, m);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

export const needsPlainDirectory = (m: Mount): boolean => m.type === 'proc' || m.type === 'sysfs';

// proc and sysfs go onto the destination directory itself, never through a final symlink: an image
// whose /proc links to a directory of fake files must not get the real procfs elsewhere while the
// runtime and the container look at the fakes (CVE-2019-19921, CVE-2023-27561). The returned O_PATH
// fd pins that directory, so a later swap of the name changes nothing.
export function openPlainDirectory(rootFd: number, dest: string, type: string): number {
  const name = path.posix.basename(dest);
  const parent = mkdirAllInRoot(rootFd, path.posix.dirname(dest), 0o755);
  try {
    if (name === '' || name === '.' || name === '..') throw new Error(`filesystem "${type}" must be mounted on ordinary directory`);
    const open = (): number => libc().openat2(parent, name, O_PATH | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0, 0);
    let fd: number;
    try {
      fd = open();
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      ignoring('EEXIST', () => fs.mkdirSync(`${fdPath(parent)}/${name}`, { mode: 0o755 }));
      fd = open();
    }
    if (!fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw new Error(`filesystem "${type}" must be mounted on ordinary directory`);
    }
    return fd;
  } finally {
    fs.closeSync(parent);
  }
}
