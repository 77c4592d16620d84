// Path resolution inside a container's rootfs that can never escape it, built on openat2(RESOLVE_IN_ROOT).
// Owns openInRoot/mkdirAllInRoot, the /proc/self/fd/N form used to hand resolved paths to mount(2), and withFd.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from './libc';
import { RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from './constants';
import { isErrno } from './errors';


import { O_CLOEXEC, O_PATH } from "./constants";
const O_DIRECTORY = fs.constants.O_DIRECTORY;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW;

export const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;

// Runs f on fd and closes fd afterwards, whatever f does.
export function withFd<T>(fd: number, f: (fd: number) => T): T {
  try {
    return f(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// With RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel answers EAGAIN when a rename or mount anywhere
// raced the lookup, as it cannot then prove ".." stayed inside; a fresh lookup is the documented
// answer. A racer that never stops turns this into an error, never into a wrong path.
export function openat2Retrying(dirfd: number, p: string, flags: number, mode: number, resolve: number): number {
  for (let attempt = 1; ; attempt++) {
    try {
      return libc().openat2(dirfd, p, flags, mode, resolve);
    } catch (e) {
      if (!isErrno(e, 'EAGAIN') || attempt >= 64) throw e;
    }
  }
}

// Symlinks (even absolute ones) are followed as if rootFd were "/"; ".." stops at it.
export function openInRoot(rootFd: number, p: string, flags: number = O_PATH, mode = 0): number {
  const rel = p.replace(/^\/+/, '') || '.';
  return openat2Retrying(rootFd, rel, flags | O_CLOEXEC, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

// Creates every missing directory of p inside the root; the last component becomes a file when asFile.
// Returns an O_PATH fd of the (resolved) final component; the caller closes it.
export function mkdirAllInRoot(rootFd: number, p: string, mode: number, asFile = false): number {
  const parts = path.posix.normalize('/' + p).split('/').filter(Boolean);
  let cur = '/';
  let fd = openInRoot(rootFd, '/', O_PATH | O_DIRECTORY);
  for (let i = 0; i < parts.length; i++) {
    const next = path.posix.join(cur, parts[i]);
    const last = i === parts.length - 1;
    let nfd: number;
    try {
      nfd = openInRoot(rootFd, next, O_PATH);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) {
        fs.closeSync(fd);
        throw e;
      }
      // Create the one missing name inside the already-resolved parent, then resolve it again:
      // a concurrent symlink swap can only redirect us inside the root.
      const where = `${fdPath(fd)}/${parts[i]}`;
      try {
        if (last && asFile) fs.closeSync(fs.openSync(where, fs.constants.O_CREAT | O_NOFOLLOW | fs.constants.O_WRONLY | O_CLOEXEC, mode));
        else fs.mkdirSync(where, { mode });
      } catch (e2) {
        if (!isErrno(e2, 'EEXIST')) {
          fs.closeSync(fd);
          throw e2;
        }
      }
      nfd = openInRoot(rootFd, next, O_PATH);
    }
    fs.closeSync(fd);
    fd = nfd;
    cur = next;
    if (!last && !fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw Object.assign(new Error(`${cur}: not a directory`), { code: 'ENOTDIR' });
    }
  }
  return fd;
}

export const OPEN = { O_PATH, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW };
