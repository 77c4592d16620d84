// `ocirun init` in exec mode: a new process in a running container, with the container's settings.
// Owns the order runc's setns init uses; no rootfs set-up and no exec fifo.
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import type { InitConfig } from './config';
import { applyCapabilities, applyRlimits, dropBoundingSet, setUser } from './credentials';
import { checkExecutable, closeExtraFds, enterCwd, enterCwdAsRoot, lookPath, prepareEnv } from './exec';
import { applyIOPriority, applyScheduler } from './attributes';
import { applyExecLabels, setKeyLabel } from './lsm';
import { procfsHandle } from '../linux/procfs';
import { joinMountNamespace } from './mntns';
import { setupConsole } from './console';

export function setupExec(cfg: InitConfig): { file: string; args: string[]; env: string[] } {
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
  if (cfg.mntFd !== undefined) joinMountNamespace(cfg.mntFd);
  // The pty comes from the container's devpts, so only now; before setUser, as runc's setns init.
  if (cfg.consoleFd !== undefined) setupConsole(cfg.consoleFd, proc, { mountConsole: false, clearOnlcr: cfg.consoleProxied });

  applyScheduler(spec);
  applyIOPriority(proc.ioPriority);
  applyExecLabels(proc);
  applyRlimits(proc);
  const env = prepareEnv(proc.env ?? [], proc.user?.uid ?? 0);
  const cwdDone = enterCwdAsRoot(proc.cwd || '/');
  dropBoundingSet(proc, cfg.lastCap);
  setUser(proc);
  enterCwd(proc.cwd || '/', !cwdDone);
  applyCapabilities(proc, cfg.lastCap);
  if (proc.noNewPrivileges) l.prctl(C.PR_SET_NO_NEW_PRIVS, 1);
  // SECCOMP SEAM: the container's linux.seccomp (or the process's override) is installed here, as late
  // as possible; before applyCapabilities instead when noNewPrivileges is off (it then needs CAP_SYS_ADMIN).
  const file = lookPath(proc.args?.[0] ?? '', env);
  checkExecutable(file);
  process.umask(proc.user?.umask ?? 0o022);
  closeExtraFds(cfg.preserveFds);
  return { file, args: proc.args ?? [], env };
}
