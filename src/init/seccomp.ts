// Installing linux.seccomp in the init: compiled early (before anything is dropped), loaded late, and for
// SCMP_ACT_NOTIFY the listener fd sent with the container's state to listenerPath (runtime-spec "seccomp state").
import * as fs from 'node:fs';
import type { InitConfig } from './config';
import { libc } from '../linux/libc';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/compile';

export interface PreparedSeccomp {
  compiled: CompiledSeccomp;
  // NOTIFY only: a socket already connected to listenerPath, and what goes with the fd.
  listener?: { sock: number; state: string };
}

// Called while the init still sees the host's filesystem and procfs (before the pivot, or before exec's
// init joins the container's mount namespace): listenerPath is a host path, as for runc, whose runtime
// process sends the fd from the host, and the pid in the state is the host's, read from the host's /proc.
export function prepareSeccomp(cfg: InitConfig): PreparedSeccomp | undefined {
  const s = cfg.config.linux?.seccomp;
  // runc: no default action and no syscalls means no seccomp at all.
  if (!s || (!s.defaultAction && !(s.syscalls ?? []).length)) return undefined;
  if (!s.defaultAction) throw new Error('linux.seccomp.defaultAction: required');
  const compiled = compileSeccomp(s);
  if (!compiled.notify) return { compiled };
  if (!s.listenerPath) throw new Error('linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY');
  const pid = Number(fs.readlinkSync('/proc/self'));
  const state = {
    ociVersion: cfg.ociVersion,
    fds: ['seccompFd'],
    pid,
    metadata: s.listenerMetadata ?? '',
    state: {
      ociVersion: cfg.ociVersion,
      id: cfg.id,
      status: cfg.mode === 'exec' ? 'running' : 'creating',
      pid: cfg.mode === 'exec' ? undefined : pid,
      bundle: cfg.bundle,
      annotations: cfg.config.annotations ?? {},
    },
  };
  const sock = libc().socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
  try {
    libc().unixConnect(sock, s.listenerPath);
  } catch (e) {
    fs.closeSync(sock);
    throw new Error(`linux.seccomp.listenerPath: cannot connect to ${s.listenerPath}: ${(e as Error).message}`);
  }
  return { compiled, listener: { sock, state: JSON.stringify(state) } };
}

// After this only the few syscalls to the listener and execve run in the init (see becomeProcess).
export function loadSeccomp(p: PreparedSeccomp): void {
  const fd = libc().seccompSetFilter(p.compiled.flags, p.compiled.filter);
  if (!p.listener) return;
  try {
    libc().sendFds(p.listener.sock, Buffer.from(p.listener.state), [fd]);
  } finally {
    fs.closeSync(fd);
    fs.closeSync(p.listener.sock);
  }
}
