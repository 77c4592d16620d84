// Mounts the entries of config.json's `mounts` inside the rootfs, in order, every target
// resolved with openat2(RESOLVE_IN_ROOT) and mounted through its /proc/self/fd path.
import { O_CLOEXEC, O_PATH } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount } from '../oci';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { fdPath, mkdirAllInRoot, openInRoot } from '../linux/inroot';
import { ignoring } from '../linux/errors';
import { isBind, lockedFlagsFromStatfs, parseMountOptions, type MountOptions } from './mountopts';
import type { CgroupMountInfo } from './config';
import { checkDestination, checkResolved, needsPlainDirectory, openPlainDirectory } from './mountcheck';

const PROPAGATION_FLAGS = C.MS_SHARED | C.MS_SLAVE | C.MS_PRIVATE | C.MS_UNBINDABLE;

export interface MountContext {
  rootFd: number;
  bundle: string;
  cgroups: CgroupMountInfo[];
  cgroupns: boolean;
}

function withFd<T>(fd: number, f: (p: string) => T): T {
  try {
    return f(fdPath(fd));
  } finally {
    fs.closeSync(fd);
  }
}

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

function applyAfter(ctx: MountContext, dest: string, o: MountOptions, bind: boolean): void {
  if (!o.propagation.length && !o.recAttrSet && !o.recAttrClr && !(bind && o.flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT))) return;
  // Reopen after mounting: the old fd still names the directory underneath the new mount.
  withFd(openInRoot(ctx.rootFd, dest), (p) => {
    const extra = o.flags & ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT | PROPAGATION_FLAGS);
    if (bind && extra) remountBind(p, extra);
    for (const prop of o.propagation) libc().mount(null, p, null, prop, null);
    if (o.recAttrSet || o.recAttrClr) {
      const fd = fs.openSync(p, O_PATH | O_CLOEXEC);
      try {
        libc().mountSetattr(fd, '', C.AT_EMPTY_PATH | C.AT_RECURSIVE, BigInt(o.recAttrSet), BigInt(o.recAttrClr));
      } finally {
        fs.closeSync(fd);
      }
    }
  });
}



export function mountEntry(ctx: MountContext, m: Mount): void {
  const dest = path.posix.join('/', m.destination);
  const o = parseMountOptions(m.options);
  checkDestination(ctx.bundle, dest, m);
  if (m.type === 'cgroup') return mountCgroup(ctx, dest, o);
  const bind = isBind(o) || m.type === 'bind';
  if (bind) {
    const source = path.resolve(ctx.bundle, m.source ?? '');
    let st: fs.Stats;
    try {
      st = fs.statSync(source);
    } catch (e) {
      throw new Error(`mounts: bind source ${source} for ${m.destination}: ${(e as Error).message}`);
    }
    const fd = checkResolved(ctx.rootFd, ctx.bundle, mkdirAllInRoot(ctx.rootFd, dest, 0o755, !st.isDirectory()), m);
    withFd(fd, (p) => libc().mount(source, p, null, C.MS_BIND | (o.flags & C.MS_REC), null));
    applyAfter(ctx, dest, o, true);
    return;
  }
  const target = needsPlainDirectory(m) ? openPlainDirectory(ctx.rootFd, dest, m.type!) : mkdirAllInRoot(ctx.rootFd, dest, 0o755);
  const fd = checkResolved(ctx.rootFd, ctx.bundle, target, m);
  const flags = o.flags & ~PROPAGATION_FLAGS;
  withFd(fd, (p) => libc().mount(m.source ?? m.type ?? 'none', p, m.type ?? null, flags, o.data.join(',') || null));
  applyAfter(ctx, dest, { ...o, flags: 0 }, false);
}

const subdirName = (c: CgroupMountInfo) => c.controllers.map((x) => x.replace(/^name=/, '')).join(',');

// Without a cgroup namespace runc shows each v1 hierarchy as a read-only bind of the container's own
// cgroup under a tmpfs; with one, real cgroup filesystems are mounted. On a pure v2 host it is cgroup2.
function mountCgroup(ctx: MountContext, dest: string, o: MountOptions): void {
  const flags = o.flags & ~(C.MS_BIND | C.MS_REC | PROPAGATION_FLAGS);
  const v1 = ctx.cgroups.filter((c) => !c.unified);
  if (!v1.length) {
    const fd = mkdirAllInRoot(ctx.rootFd, dest, 0o755);
    if (ctx.cgroupns) withFd(fd, (p) => libc().mount('cgroup2', p, 'cgroup2', flags, null));
    else {
      const dir = ctx.cgroups.find((c) => c.unified)?.dir;
      if (!dir) return;
      withFd(fd, (p) => libc().mount(dir, p, null, C.MS_BIND | C.MS_REC, null));
      withFd(openInRoot(ctx.rootFd, dest), (p) => remountBind(p, flags));
    }
    return;
  }
  withFd(mkdirAllInRoot(ctx.rootFd, dest, 0o755), (p) =>
    libc().mount('tmpfs', p, 'tmpfs', flags & ~C.MS_RDONLY, 'mode=755'),
  );
  for (const c of v1) {
    const name = subdirName(c);
    const sub = path.posix.join(dest, name);
    withFd(mkdirAllInRoot(ctx.rootFd, sub, 0o755), (p) => {
      if (ctx.cgroupns) libc().mount('cgroup', p, 'cgroup', flags, c.controllers.join(','));
      else libc().mount(c.dir, p, null, C.MS_BIND | C.MS_REC, null);
    });
    if (!ctx.cgroupns) withFd(openInRoot(ctx.rootFd, sub), (p) => remountBind(p, flags));
    // Co-mounted controllers (cpu,cpuacct) are also reachable by each name, as on the host.
    if (c.controllers.length > 1) {
      for (const ctl of c.controllers) {
        const link = ctl.replace(/^name=/, '');
        withFd(openInRoot(ctx.rootFd, dest), (p) => ignoring('EEXIST', () => fs.symlinkSync(name, path.join(p, link))));
      }
    }
  }
}
