// Installing linux.seccomp in create's init: compiled early (before anything is dropped), loaded late, and for
// SCMP_ACT_NOTIFY the listener fd sent with the container's state to listenerPath (runtime-spec "seccomp state").
import * as fs from 'node:fs';
import type { InitConfig } from './config';
import { libc } from '../linux/libc';
import type { CompiledSeccomp } from '../seccomp/compile';
import { listenerState, prepareSeccomp as prepare } from '../process/stage';

export interface PreparedSeccomp {
  compiled: CompiledSeccomp;
  // NOTIFY only: a socket already connected to listenerPath, and what goes with the fd.
  listener?: { sock: number; state: string };
}

// Called while the init still sees the host's filesystem and procfs (before the pivot): the pid in the
// state is the host's, read from the host's /proc.
export function prepareSeccomp(cfg: InitConfig): PreparedSeccomp | undefined {
  const p = prepare(cfg.config.linux?.seccomp);
  if (!p || p.listenerFd === undefined) return p && { compiled: p.compiled };
  const pid = Number(fs.readlinkSync('/proc/self'));
  const state = listenerState({ ociVersion: cfg.ociVersion, id: cfg.id, bundle: cfg.bundle, spec: cfg.config, pid, status: 'creating' });
  return { compiled: p.compiled, listener: { sock: p.listenerFd, state } };
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
