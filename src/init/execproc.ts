// `ocirun init` in exec mode: a new process in a running container, with the container's settings.
// Owns the order runc's setns init uses; no rootfs set-up and no exec fifo.
import { libc } from '../linux/libc';
import type { InitConfig } from './config';
import { becomeProcess } from './credentials';
import { applyIOPriority, applyScheduler } from './attributes';
import { applyExecLabels, setKeyLabel } from './lsm';
import { procfsHandle } from '../linux/procfs';
import { joinMountNamespace } from './mntns';
import { setupConsole } from './console';
import { prepareSeccomp, type PreparedSeccomp } from './seccomp';

export function setupExec(cfg: InitConfig): { file: string; args: string[]; env: string[]; seccomp?: PreparedSeccomp } {
  const l = libc();
  const spec = cfg.config;
  const proc = spec.process;
  if (!proc) throw new Error('process: required');

  l.setsid();
  if (!cfg.noNewKeyring) {
    setKeyLabel(proc.selinuxLabel);
    try {
      // runc's setns init joins a session keyring of its own name, not the container's.
      l.keyctlJoinSession(`_ses.${cfg.id}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSYS' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }
  // In the host's mount namespace still: the verified procfs handle cannot come from the container's /proc.
  procfsHandle();
  // As runc, exec uses the container's linux.seccomp; compiled while the host's paths are visible.
  const seccomp = prepareSeccomp(cfg);
  if (cfg.mntFd !== undefined) joinMountNamespace(cfg.mntFd);
  // The pty comes from the container's devpts, so only now; before setUser, as runc's setns init.
  if (cfg.consoleFd !== undefined) setupConsole(cfg.consoleFd, proc, { mountConsole: false, clearOnlcr: cfg.consoleProxied });

  applyScheduler(spec);
  applyIOPriority(proc.ioPriority);
  applyExecLabels(proc);
  return becomeProcess(cfg, proc, seccomp);
}
