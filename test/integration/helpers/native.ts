// Two libc calls Node lacks, via koffi: whether a file's mount is read-only and whether
// a memfd is write-sealed. They let the CVE tests prove a seal structurally.
import * as fs from 'node:fs';
import * as koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const fstatvfsFn = libc.func('int fstatvfs(int fd, _Out_ uint8_t *buf)');
const fcntlFn = libc.func('int fcntl(int fd, int cmd, int arg)');

/** glibc x86_64/arm64 struct statvfs: nine 8-byte fields precede f_flag. */
const F_FLAG_OFFSET = 72;
const ST_RDONLY = 1n;
const F_GET_SEALS = 1034;
const F_SEAL_WRITE = 0x8;

/** True when the mount the fd's file was reached through is read-only (works on O_PATH fds). */
export function onReadOnlyMount(fd: number): boolean {
  const buf = Buffer.alloc(128);
  if (fstatvfsFn(fd, buf) !== 0) throw new Error(`fstatvfs(${fd}) failed`);
  return (buf.readBigUInt64LE(F_FLAG_OFFSET) & ST_RDONLY) !== 0n;
}

/**
 * True when the file behind an O_PATH fd is a memfd with F_SEAL_WRITE. Seals can only be
 * read through a real open fd, so the file is reopened read-only for the query.
 */
export function writeSealed(pathFd: number): boolean {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/self/fd/${pathFd}`, 'r');
  } catch {
    return false;
  }
  try {
    const seals = fcntlFn(fd, F_GET_SEALS, 0) as number;
    return seals >= 0 && (seals & F_SEAL_WRITE) !== 0;
  } finally {
    fs.closeSync(fd);
  }
}
