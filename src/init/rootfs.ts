// Builds the container's filesystem view in the init's mount namespace, in the order runc uses:
// propagation, rootfs bind, config mounts, cwd, /dev, pivot, then masked/readonly paths and a read-only root.
import { O_CLOEXEC, O_PATH } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { mkdirAllInRoot } from '../linux/inroot';
import { finalizeMounts, mountEntry, remountBind, rootPropagation } from './mounts';
import { isBind, parseMountOptions } from './mountopts';
import { createDevSymlinks, createDevices } from './devices';
import { moveRoot, pivotRoot } from './pivot';
import type { InitConfig } from './config';

// The mount that contains p, from /proc/self/mountinfo: [mountpoint, optional fields].
function parentMount(p: string): { mountpoint: string; shared: boolean } {
  let best = { mountpoint: '/', shared: false };
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 7) continue;
    const mp = f[4].replace(/\\040/g, ' ');
    if ((p === mp || p.startsWith(mp === '/' ? '/' : mp + '/')) && mp.length >= best.mountpoint.length) {
      const opt = f.slice(6, f.indexOf('-'));
      best = { mountpoint: mp, shared: opt.some((o) => o.startsWith('shared:')) };
    }
  }
  return best;
}

// beforePivot is the hook point: mounts are done and the host's root is still reachable (runc's prestart,
// createRuntime and createContainer moment).
export function prepareRootfs(cfg: InitConfig, beforePivot?: () => void): void {
  const l = libc();
  const linux = cfg.config.linux ?? {};
  l.mount(null, '/', null, rootPropagation(linux.rootfsPropagation).before, null);

  // pivot_root refuses a new root whose parent mount is shared.
  const parent = parentMount(cfg.rootfs);
  if (parent.shared) l.mount(null, parent.mountpoint, null, C.MS_PRIVATE, null);
  l.mount(cfg.rootfs, cfg.rootfs, 'bind', C.MS_BIND | C.MS_REC, null);

  const rootFd = fs.openSync(cfg.rootfs, O_PATH | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    const cgroupns = (linux.namespaces ?? []).some((n) => n.type === 'cgroup');
    const ctx = { rootFd, bundle: cfg.bundle, cgroups: cfg.cgroups, cgroupns, mountLabel: linux.mountLabel, mountFds: cfg.mountFds ?? {} };
    for (const [i, m] of (cfg.config.mounts ?? []).entries()) {
      try {
        mountEntry(ctx, m, i);
      } catch (e) {
        throw new Error(`mounts[${i}] (${m.destination}): ${(e as Error).message}`);
      }
    }
    const cwd = cfg.config.process?.cwd;
    if (cwd) fs.closeSync(mkdirAllInRoot(rootFd, cwd, 0o755));

    const devBound = (cfg.config.mounts ?? []).some(
      (m) => path.posix.join('/', m.destination) === '/dev' && isBind(parseMountOptions(m.options), m.type),
    );
    if (!devBound) {
      createDevices(rootFd, linux.devices ?? [], cfg.userns);
      createDevSymlinks(rootFd);
    }
  } finally {
    fs.closeSync(rootFd);
  }

  beforePivot?.();
  if (cfg.noPivot) moveRoot(cfg.rootfs);
  else pivotRoot(cfg.rootfs);
}

// After the pivot: read-only tmpfs mounts and /dev (when asked) and a read-only root.
export function finalizeRootfs(cfg: InitConfig): void {
  finalizeMounts(cfg.config.mounts);
  if (cfg.config.root?.readonly) remountBind('/', C.MS_RDONLY);
}

// linux.readonlyPaths and linux.maskedPaths: fd-only mounts, in ./protect.
export { protectPaths } from './protect';
