// linux.readonlyPaths and linux.maskedPaths, after the pivot, with mounts made from fds onto fds
// (open_tree, fsmount, move_mount): nothing depends on the container's /proc or resolves a name twice.
import { O_CLOEXEC, O_PATH, RESOLVE_NO_MAGICLINKS } from '../linux/constants';
import * as C from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import { openat2Retrying, openInRoot, withFd } from '../linux/inroot';
import { isErrno } from '../linux/errors';
import type { InitConfig } from './config';

const FD_TO_FD = C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH;

// A recursive bind of the path onto itself whose top mount is read-only, as runc's bind + remount.
function readonlyBind(target: number): void {
  const l = libc();
  withFd(l.openTree(target, '', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_RECURSIVE | C.AT_EMPTY_PATH), (tree) => {
    l.mountSetattr(tree, '', C.AT_EMPTY_PATH, BigInt(C.MOUNT_ATTR.RDONLY), 0n);
    l.moveMount(tree, '', target, '', FD_TO_FD);
  });
}

// A read-only tmpfs over a directory, as runc's mount("tmpfs", path, "tmpfs", MS_RDONLY).
function maskDirectory(target: number): void {
  const l = libc();
  const mnt = withFd(l.fsopen('tmpfs', C.FSOPEN_CLOEXEC), (ctx) => {
    l.fsconfig(ctx, C.FSCONFIG_SET_STRING, 'source', 'tmpfs', 0);
    l.fsconfig(ctx, C.FSCONFIG_SET_FLAG, 'ro', null, 0);
    l.fsconfig(ctx, C.FSCONFIG_CMD_CREATE, null, null, 0);
    return l.fsmount(ctx, C.FSMOUNT_CLOEXEC, C.MOUNT_ATTR.RDONLY);
  });
  withFd(mnt, () => l.moveMount(mnt, '', target, '', FD_TO_FD));
}

// A bind of the null device over a file, cloned from the very fd that was checked.
function maskFile(devNull: number, target: number): void {
  const l = libc();
  withFd(l.openTree(devNull, '', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_EMPTY_PATH), (tree) =>
    l.moveMount(tree, '', target, '', FD_TO_FD),
  );
}

// glibc's dev_t encoding (gnu_dev_major/minor).
const major = (rdev: number): number => Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
const minor = (rdev: number): number => Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));

function describe(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isCharacterDevice()) return `char device ${major(st.rdev)}:${minor(st.rdev)}`;
  if (st.isBlockDevice()) return `block device ${major(st.rdev)}:${minor(st.rdev)}`;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  return 'a regular file';
}

// The container's /dev/null masks files, as in runc. It is opened without following a final symlink
// and checked by fd: an image or a /dev bind whose null links to /proc/sys/kernel/core_pattern would
// otherwise turn every "masked" file into a writable host sysctl (CVE-2025-31133).
function openDevNull(rootFd: number): number {
  let fd: number;
  try {
    fd = openInRoot(rootFd, '/dev/null', O_PATH | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new Error(`cannot mask files without /dev/null: ${(e as Error).message}`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isCharacterDevice() || major(st.rdev) !== 1 || minor(st.rdev) !== 3) {
    fs.closeSync(fd);
    throw new Error(`/dev/null is ${describe(st)}, not the null device (char 1:3): refusing to mask with it`);
  }
  return fd;
}

const PSEUDO_FS: Record<string, number> = { proc: C.PROC_SUPER_MAGIC, sysfs: C.SYSFS_MAGIC };

interface Pinned {
  dest: string;
  fd: number;
}

// The proc and sysfs mounts the config made, opened again by name without following a final symlink
// and checked by filesystem type. A host-side racer (a volume shared with another container) could
// have swapped /proc for a link to fake files since the mount; the masks then still land on the real
// procfs, because every path below it is resolved from this fd and procfs has no renames.
// Fds go into `pinned` as soon as they are open, so that the caller closes them on failure too.
function pinPseudoFilesystems(rootFd: number, cfg: InitConfig, pinned: Pinned[]): void {
  const seen = new Set<string>();
  for (const m of [...(cfg.config.mounts ?? [])].reverse()) {
    const dest = path.posix.join('/', m.destination);
    const magic = PSEUDO_FS[m.type ?? ''];
    if (magic === undefined || seen.has(dest)) continue;
    seen.add(dest);
    const fd = openInRoot(rootFd, dest, O_PATH | fs.constants.O_NOFOLLOW);
    pinned.push({ dest, fd });
    if (libc().fstatfsType(fd) !== magic) throw new Error(`${dest} is no longer the ${m.type} mounted there (now ${describe(fs.fstatSync(fd))})`);
  }
}

function openTarget(rootFd: number, pinned: Pinned[], p: string): number {
  const abs = path.posix.normalize(path.posix.join('/', p));
  const base = pinned.filter((x) => abs.startsWith(x.dest === '/' ? '/' : `${x.dest}/`)).sort((a, b) => b.dest.length - a.dest.length)[0];
  if (!base) return openInRoot(rootFd, abs);
  return openat2Retrying(base.fd, abs.slice(base.dest.length).replace(/^\/+/, ''), O_PATH | O_CLOEXEC, 0, C.RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

export function protectPaths(cfg: InitConfig): void {
  const linux = cfg.config.linux ?? {};
  const rootFd = fs.openSync('/', O_PATH | fs.constants.O_DIRECTORY | O_CLOEXEC);
  let devNull: number | undefined;
  const pinned: Pinned[] = [];
  try {
    if (linux.readonlyPaths?.length || linux.maskedPaths?.length) {
      try {
        pinPseudoFilesystems(rootFd, cfg, pinned);
      } catch (e) {
        throw new Error(`linux.maskedPaths, linux.readonlyPaths: ${(e as Error).message}`);
      }
    }
    const openOrSkip = (p: string, skip: string[]): number | undefined => {
      try {
        return openTarget(rootFd, pinned, p);
      } catch (e) {
        if (skip.some((code) => isErrno(e, code))) return undefined;
        throw e;
      }
    };
    // Missing paths are skipped, as in runc; any other failure (a path below a file) is an error.
    for (const p of linux.readonlyPaths ?? []) {
      try {
        const fd = openOrSkip(p, ['ENOENT']);
        if (fd !== undefined) withFd(fd, readonlyBind);
      } catch (e) {
        throw new Error(`linux.readonlyPaths ${p}: ${(e as Error).message}`);
      }
    }
    for (const p of linux.maskedPaths ?? []) {
      try {
        const fd = openOrSkip(p, ['ENOENT']);
        if (fd === undefined) continue;
        withFd(fd, (target) => {
          if (fs.fstatSync(target).isDirectory()) maskDirectory(target);
          else maskFile((devNull ??= openDevNull(rootFd)), target);
        });
      } catch (e) {
        throw new Error(`linux.maskedPaths ${p}: ${(e as Error).message}`);
      }
    }
  } finally {
    for (const x of pinned) fs.closeSync(x.fd);
    if (devNull !== undefined) fs.closeSync(devNull);
    fs.closeSync(rootFd);
  }
}
