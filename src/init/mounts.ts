// Mounts the entries of config.json's `mounts` inside the rootfs, in order, every target
// resolved with openat2(RESOLVE_IN_ROOT) and mounted through its fd, never through a path string.
import { O_CLOEXEC, O_PATH } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount } from '../oci';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { fdPath, mkdirAllInRoot, openInRoot, withFd } from '../linux/inroot';
import { ignoring, isErrno } from '../linux/errors';
import {
  PROPAGATION, isBind, lockedFlagsFromStatfs, parseMountOptions, remountRetryFlags, statfsMountFlags, type MountOptions,
} from './mountopts';
import { copyTree } from './copyup';
import type { CgroupMountInfo } from './config';
import { labelMountData } from './lsm';
import { checkDestination, checkResolved, needsPlainDirectory, openPlainDirectory } from './mountcheck';

const PROPAGATION_FLAGS = C.MS_SHARED | C.MS_SLAVE | C.MS_PRIVATE | C.MS_UNBINDABLE;

export interface MountContext {
  rootFd: number;
  bundle: string;
  cgroups: CgroupMountInfo[];
  cgroupns: boolean;
  // linux.mountLabel, added as SELinux context= to the filesystems runc labels.
  mountLabel?: string;
  // Detached (id-mapped) trees from the runtime, by mount index.
  mountFds: Record<string, number>;
}

// withFd for mount(2), which takes the fd's /proc/self/fd path.
const withFdPath = <T>(fd: number, f: (p: string, fd: number) => T): T => withFd(fd, () => f(fdPath(fd), fd));

// A bind remount must repeat the flags the kernel locked on the source (nosuid, nodev...), or it fails.
export function remountBind(target: string, flags: number): void {
  let keep = 0;
  try {
    keep = lockedFlagsFromStatfs(libc().statfsFlags(target)) & ~C.MS_RDONLY;
  } catch {
    /* best effort: the plain remount below reports the real error */
  }
  libc().mount(null, target, null, C.MS_BIND | C.MS_REMOUNT | flags | keep, null);
}

// runc 1.2's bind remount: exactly the requested flags (so "bind,ro" of a nosuid source is not
// nosuid, as with mount --bind -o ro); only if the kernel refuses because flags are locked (a user
// namespace), again with the source's locked flags added.
function remountRequested(p: string, o: MountOptions): void {
  const base = C.MS_BIND | C.MS_REMOUNT;
  const flags = o.flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT);
  try {
    libc().mount(null, p, null, base | flags, null);
  } catch (e) {
    if (!isErrno(e, 'EPERM')) throw e;
    // The new mount still has the source's flags: the first remount changed nothing.
    const retry = remountRetryFlags({ ...o, flags }, statfsMountFlags(libc().statfsFlags(p)));
    if (retry === undefined) throw e;
    libc().mount(null, p, null, base | retry, null);
  }
}

// Propagation changes and recursive attributes, on a fresh fd: the old one still names the
// directory underneath the new mount.
function applyAfter(ctx: MountContext, dest: string, o: MountOptions): void {
  if (!o.propagation.length && !o.recAttrSet && !o.recAttrClr) return;
  withFdPath(openInRoot(ctx.rootFd, dest), (p, fd) => {
    for (const prop of o.propagation) libc().mount(null, p, null, prop, null);
    if (o.recAttrSet || o.recAttrClr) {
      libc().mountSetattr(fd, '', C.AT_EMPTY_PATH | C.AT_RECURSIVE, BigInt(o.recAttrSet), BigInt(o.recAttrClr));
    }
  });
}

function mountBind(ctx: MountContext, dest: string, m: Mount, o: MountOptions, treeFd: number | undefined): void {
  const l = libc();
  const source = path.resolve(ctx.bundle, m.source ?? '');
  let st: fs.Stats;
  try {
    st = treeFd === undefined ? fs.statSync(source) : fs.fstatSync(treeFd);
  } catch (e) {
    throw new Error(`bind source ${source}: ${(e as Error).message}`);
  }
  // "remount" changes the flags of what is already mounted there instead of binding anew, as in runc.
  if (o.flags & C.MS_REMOUNT) {
    withFdPath(openInRoot(ctx.rootFd, dest), (p) => remountRequested(p, o));
    return applyAfter(ctx, dest, o);
  }
  let target: number;
  try {
    target = checkResolved(ctx.rootFd, ctx.bundle, mkdirAllInRoot(ctx.rootFd, dest, 0o755, !st.isDirectory()), m);
  } catch (e) {
    if (treeFd !== undefined) fs.closeSync(treeFd);
    throw e;
  }
  withFdPath(target, (p, fd) => {
    if (treeFd === undefined) {
      l.mount(source, p, null, C.MS_BIND | (o.flags & C.MS_REC), null);
      return;
    }
    try {
      l.moveMount(treeFd, '', fd, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH);
    } finally {
      fs.closeSync(treeFd);
    }
  });
  if (o.flags & ~(C.MS_BIND | C.MS_REC) || o.cleared) withFdPath(openInRoot(ctx.rootFd, dest), (p) => remountRequested(p, o));
  applyAfter(ctx, dest, o);
}

// Missing is fine (it is created); anything else that stops the resolution is an error.
function tryOpen(ctx: MountContext, dest: string, flags: number): number | undefined {
  try {
    return openInRoot(ctx.rootFd, dest, flags);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

function mountFilesystem(ctx: MountContext, dest: string, m: Mount, o: MountOptions): void {
  const l = libc();
  const tmpfs = m.type === 'tmpfs';
  const data = [...o.data];
  let flags = o.flags;
  // runc mounts tmpfs and /dev read-write and makes them read-only at the end (finalizeMounts), so
  // that tmpcopyup and the device nodes can still be written.
  if (writableUntilFinal(m, dest)) flags &= ~C.MS_RDONLY;
  let lower: number | undefined;
  try {
    if (tmpfs) {
      const fd = tryOpen(ctx, dest, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      // A tmpfs over a directory starts with its mode, as under runc 1.2 (an explicit mode= wins).
      if (fd !== undefined) data.unshift(`mode=${octal(fs.fstatSync(fd).mode)}`);
      if (fd !== undefined && o.tmpcopyup) lower = fd;
      else if (fd !== undefined) fs.closeSync(fd);
    }
    const joined = labelMountData(data.join(','), ctx.mountLabel, m.type);
    // proc and sysfs only onto a real directory, never through a final symlink (CVE-2019-19921).
    const target = needsPlainDirectory(m) ? openPlainDirectory(ctx.rootFd, dest, m.type!) : mkdirAllInRoot(ctx.rootFd, dest, 0o755);
    withFdPath(checkResolved(ctx.rootFd, ctx.bundle, target, m), (p) => {
      try {
        l.mount(m.source ?? m.type ?? 'none', p, m.type ?? null, flags, joined || null);
      } catch (e) {
        const what = joined ? ` (data ${JSON.stringify(joined)})` : '';
        throw new Error(`mount ${m.type ?? 'none'}${what}: ${(e as Error).message.replace(/^mount \S+: /, '')}`);
      }
    });
    // The fd opened before the mount still names the directory underneath: copy it up.
    if (lower !== undefined) withFd(openInRoot(ctx.rootFd, dest, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), (upper) => copyTree(lower!, upper));
  } finally {
    if (lower !== undefined) fs.closeSync(lower);
  }
  // rro waits for finalizeMounts as well, for the same reason.
  applyAfter(ctx, dest, writableUntilFinal(m, dest) ? { ...o, recAttrSet: o.recAttrSet & ~C.MOUNT_ATTR.RDONLY } : o);
}

const writableUntilFinal = (m: Mount, dest: string) => m.type === 'tmpfs' || dest === '/dev';

export function mountEntry(ctx: MountContext, m: Mount, index: number): void {
  // Relative destinations are relative to the container's "/" (runtime-spec 1.2).
  const dest = path.posix.join('/', m.destination);
  const o = parseMountOptions(m.options);
  checkDestination(ctx.bundle, dest, m);
  if (isBind(o, m.type)) return mountBind(ctx, dest, m, o, ctx.mountFds[String(index)]);
  if (m.type === 'cgroup') return mountCgroup(ctx, dest, o);
  mountFilesystem(ctx, dest, m, o);
}

// After the pivot: tmpfs mounts and /dev asked to be read-only become so now (see mountFilesystem).
export function finalizeMounts(mounts: Mount[] = []): void {
  const rootFd = fs.openSync('/', O_PATH | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    for (const m of mounts) {
      const dest = path.posix.join('/', m.destination);
      const o = parseMountOptions(m.options);
      if (!writableUntilFinal(m, dest) || isBind(o, m.type)) continue;
      if (o.flags & C.MS_RDONLY) {
        withFdPath(openInRoot(rootFd, dest), (p) => remountBind(p, C.MS_RDONLY | (o.flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT))));
      }
      if (o.recAttrSet & C.MOUNT_ATTR.RDONLY) {
        withFd(openInRoot(rootFd, dest), (fd) =>
          libc().mountSetattr(fd, '', C.AT_EMPTY_PATH | C.AT_RECURSIVE, BigInt(C.MOUNT_ATTR.RDONLY), 0n),
        );
      }
    }
  } finally {
    fs.closeSync(rootFd);
  }
}

const subdirName = (c: CgroupMountInfo) => c.controllers.map((x) => x.replace(/^name=/, '')).join(',');

// Without a cgroup namespace runc shows each v1 hierarchy as a read-only bind of the container's own
// cgroup under a tmpfs; with one, real cgroup filesystems are mounted. On a pure v2 host it is cgroup2.
function mountCgroup(ctx: MountContext, dest: string, o: MountOptions): void {
  const flags = o.flags & ~(C.MS_BIND | C.MS_REC | PROPAGATION_FLAGS);
  const v1 = ctx.cgroups.filter((c) => !c.unified);
  if (!v1.length) {
    const fd = mkdirAllInRoot(ctx.rootFd, dest, 0o755);
    if (ctx.cgroupns) withFdPath(fd, (p) => libc().mount('cgroup2', p, 'cgroup2', flags, null));
    else {
      const dir = ctx.cgroups.find((c) => c.unified)?.dir;
      if (!dir) return;
      withFdPath(fd, (p) => libc().mount(dir, p, null, C.MS_BIND | C.MS_REC, null));
      withFdPath(openInRoot(ctx.rootFd, dest), (p) => remountBind(p, flags));
    }
    return;
  }
  withFdPath(mkdirAllInRoot(ctx.rootFd, dest, 0o755), (p) =>
    libc().mount('tmpfs', p, 'tmpfs', flags & ~C.MS_RDONLY, labelMountData('mode=755', ctx.mountLabel, 'tmpfs')),
  );
  for (const c of v1) {
    const name = subdirName(c);
    const sub = path.posix.join(dest, name);
    withFdPath(mkdirAllInRoot(ctx.rootFd, sub, 0o755), (p) => {
      // runc names the source of the name=systemd hierarchy "systemd", as systemd itself mounts it.
      const source = c.controllers.includes('name=systemd') ? 'systemd' : 'cgroup';
      if (ctx.cgroupns) libc().mount(source, p, 'cgroup', flags, c.controllers.join(','));
      else libc().mount(c.dir, p, null, C.MS_BIND | C.MS_REC, null);
    });
    if (!ctx.cgroupns) withFdPath(openInRoot(ctx.rootFd, sub), (p) => remountBind(p, flags));
    // Co-mounted controllers (cpu,cpuacct) are also reachable by each name, as on the host.
    if (c.controllers.length > 1) {
      for (const ctl of c.controllers) {
        const link = ctl.replace(/^name=/, '');
        withFdPath(openInRoot(ctx.rootFd, dest), (p) => ignoring('EEXIST', () => fs.symlinkSync(name, path.join(p, link))));
      }
    }
  }
}

// linux.rootfsPropagation (default rslave), in two steps as runc 1.3 applies it: `before` goes on the
// old root before the rootfs is bound, `after` (0: nothing) on the new root once the filesystem is
// complete. The rootfs's parent is made private for pivot_root, which would undo "shared"; and an
// unbindable old root would refuse the rootfs bind itself, so it stays rslave until the end (where
// runbindable no longer stops the read-only-path binds either).
export function rootPropagation(value: string | undefined): { before: number; after: number } {
  if (value === undefined || value === '') return { before: C.MS_SLAVE | C.MS_REC, after: 0 };
  const prop = Object.hasOwn(PROPAGATION, value) ? PROPAGATION[value] : undefined;
  if (prop === undefined) throw new Error(`linux.rootfsPropagation: unknown value ${JSON.stringify(value)}`);
  if (prop & C.MS_UNBINDABLE) return { before: C.MS_SLAVE | C.MS_REC, after: prop };
  return { before: prop, after: prop & C.MS_SHARED ? prop : 0 };
}

export function applyRootPropagation(value: string | undefined): void {
  const { after } = rootPropagation(value);
  if (after) libc().mount(null, '/', null, after, null);
}
