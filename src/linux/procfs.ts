// The one way the runtime and the init reach procfs to write (sysctl, oom_score_adj, id maps) or to
// read something they trust: a private procfs handle, verified by fd, that no mount can redirect (CVE-2025-52881).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from './libc';
import * as C from './constants';
import { SysError } from './errors';
import { openat2Retrying } from './inroot';

const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY, O_WRONLY } = fs.constants;
// Beneath the handle, never onto another mount (an overmount fails with EXDEV), and no jump through
// /proc/<pid>/fd-style links. /proc/self and /proc/thread-self are plain relative symlinks: allowed.
const BENEATH = C.RESOLVE_BENEATH | C.RESOLVE_NO_XDEV | C.RESOLVE_NO_MAGICLINKS;

let root: number | undefined;

// A new procfs instance (fsopen/fsmount) is attached nowhere, so nothing mounted in any namespace can
// cover one of its files; it shows the pid namespace of the caller. It needs CAP_SYS_ADMIN over the
// pid namespace, and in a user namespace the kernel also wants a fully visible /proc: if refused, a
// non-recursive clone of /proc (which leaves every overmount behind), and last /proc itself, where
// RESOLVE_NO_XDEV still refuses to cross into anything mounted on top of a procfs file.
function privateProc(): number {
  const l = libc();
  const ctx = l.fsopen('proc', C.FSOPEN_CLOEXEC);
  try {
    l.fsconfig(ctx, C.FSCONFIG_CMD_CREATE, null, null, 0);
    return l.fsmount(ctx, C.FSMOUNT_CLOEXEC, C.MOUNT_ATTR.NOSUID | C.MOUNT_ATTR.NODEV | C.MOUNT_ATTR.NOEXEC);
  } finally {
    fs.closeSync(ctx);
  }
}

// Only the root of a procfs superblock has f_type PROC_SUPER_MAGIC and inode 1.
function verifyRoot(fd: number): void {
  const type = libc().fstatfsType(fd);
  if (type !== C.PROC_SUPER_MAGIC) throw new Error(`not a procfs (filesystem type 0x${type.toString(16)})`);
  const ino = fs.fstatSync(fd).ino;
  if (ino !== C.PROC_ROOT_INO) throw new Error(`not the root of a procfs (inode ${ino})`);
}

function openRoot(): number {
  const attempts: [string, () => number][] = [
    ['fsopen', privateProc],
    ['open_tree', () => libc().openTree(C.AT_FDCWD, '/proc', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC)],
    ['open', () => fs.openSync('/proc', C.O_PATH | O_DIRECTORY | O_NOFOLLOW | C.O_CLOEXEC)],
  ];
  const errors: string[] = [];
  for (const [how, open] of attempts) {
    let fd = -1;
    try {
      fd = open();
      verifyRoot(fd);
      return fd;
    } catch (e) {
      if (fd >= 0) fs.closeSync(fd);
      errors.push(`${how}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no verified procfs handle (${errors.join('; ')})`);
}

// Opened once per process. The init calls this before pivot_root, while the only /proc around is the
// host's: after the pivot, /proc is whatever the container's config and image made of it.
export function procfsHandle(): number {
  root ??= openRoot();
  return root;
}

// The handle is close-on-exec; the init closes it before execve all the same, since --preserve-fds
// clears close-on-exec on low fds and the handle could sit in a gap among them.
export function procfsClose(): void {
  if (root !== undefined) fs.closeSync(root);
  root = undefined;
}

function relative(rel: string): string {
  const clean = path.posix.normalize(rel.replace(/^\/+/, ''));
  if (clean === '..' || clean.startsWith('../') || clean.startsWith('/')) throw new Error(`procfs path ${rel}: outside /proc`);
  return clean;
}

// rel is relative to /proc ('sys/net/ipv4/ip_forward', 'self/attr/apparmor/exec', '<pid>/oom_score_adj').
// The final component is never followed.
export function procfsOpen(rel: string, flags: number): number {
  const clean = relative(rel);
  let fd: number;
  try {
    fd = openat2Retrying(procfsHandle(), clean, flags | O_NOFOLLOW | C.O_CLOEXEC, 0, BENEATH);
  } catch (e) {
    // EXDEV: something is mounted over a component (only possible on the /proc fallback handle).
    if (e instanceof SysError) throw new SysError('open', e.errno, `/proc/${clean}`);
    throw e;
  }
  try {
    const type = libc().fstatfsType(fd);
    if (type !== C.PROC_SUPER_MAGIC) throw new Error(`procfs path ${rel}: resolved outside procfs (type 0x${type.toString(16)})`);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

// One write(2) call: procfs files such as uid_map accept their whole content only in one go.
export function procfsWrite(rel: string, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = procfsOpen(rel, O_WRONLY);
  try {
    const n = fs.writeSync(fd, buf);
    if (n !== buf.length) throw new Error(`procfs write /proc/${rel}: short write (${n} of ${buf.length} bytes)`);
  } finally {
    fs.closeSync(fd);
  }
}

export function procfsRead(rel: string): string {
  const fd = procfsOpen(rel, O_RDONLY);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

// Opens again, with new flags, the file one of our fds refers to (an O_PATH fd, the exec fifo): the
// fd directory comes from the verified handle, and only its last, magic link is followed.
export function procfsReopen(fd: number, flags: number): number {
  const dir = procfsOpen('self/fd', C.O_PATH | O_DIRECTORY);
  try {
    return libc().openat2(dir, String(fd), flags | C.O_CLOEXEC, 0, 0);
  } finally {
    fs.closeSync(dir);
  }
}
