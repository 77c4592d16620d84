// `ocirun init`: the JS half of container start, running inside namespaces the stub prepared.
// Owns the order of the container's set-up, the READY/exec-fifo handshake and the final execve.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { MSG, readMessage, writeMessage, parseJSON } from '../process/protocol';
import { SOCK_ENV } from '../process/launch';
import type { InitConfig } from './config';
import { finalizeRootfs, prepareRootfs, protectPaths } from './rootfs';
import { applyRootPropagation } from './mounts';
import { becomeProcess } from './credentials';
import { resetSignals } from './exec';
import { requestRuntimeHooks, runContainerHooks } from './hooks';
import { applyPersonality, applyProcessAttributes } from './attributes';
import { applyExecLabels, setKeyLabel } from './lsm';
import { setupConsole } from './console';
import { procfsClose, procfsHandle, procfsReopen, procfsWrite } from '../linux/procfs';
import { joinMountNamespace } from './mntns';
import { loadSeccomp, prepareSeccomp, type PreparedSeccomp } from './seccomp';

function setup(cfg: InitConfig, sock: number): { file: string; args: string[]; env: string[]; seccomp?: PreparedSeccomp } {
  const l = libc();
  const spec = cfg.config;
  const proc = spec.process;
  if (!proc) throw new Error('process: required');
  const linux = spec.linux ?? {};
  const ns = new Set((linux.namespaces ?? []).map((n) => n.type));

  l.setsid();
  if (!cfg.noNewKeyring) {
    setKeyLabel(proc.selinuxLabel);
    try {
      l.keyctlJoinSession(cfg.id);
    } catch (e) {
      // Kernels and seccomp profiles that refuse keyctl are common; runc carries on as well.
      if ((e as NodeJS.ErrnoException).code !== 'ENOSYS' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }
  if (!ns.has('mount')) throw new Error('linux.namespaces: a mount namespace is required');
  // Before the pivot: afterwards /proc is the container's, which its config or image may have faked.
  procfsHandle();
  // Compiled (and its listener connected) while the host's paths and /proc are still visible.
  const seccomp = prepareSeccomp(cfg);
  // linux.namespaces joins a mount namespace by path: entered here, not by the stub (see ./mntns).
  if (cfg.mntFd !== undefined) joinMountNamespace(cfg.mntFd);
  prepareRootfs(cfg, () => {
    requestRuntimeHooks(cfg, sock);
    runContainerHooks(cfg, 'createContainer', 'creating', cfg.rootfs);
  });
  // As runc: after the mounts and the pivot, before anything is made read-only.
  if (cfg.consoleFd !== undefined) setupConsole(cfg.consoleFd, proc);
  finalizeRootfs(cfg);
  if (ns.has('uts') && spec.hostname !== undefined) l.sethostname(spec.hostname);
  if (ns.has('uts') && spec.domainname !== undefined) l.setdomainname(spec.domainname);
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    try {
      procfsWrite(`sys/${key.replace(/\./g, '/')}`, value);
    } catch (e) {
      throw new Error(`linux.sysctl ${key}: ${(e as Error).message}`);
    }
  }
  protectPaths(cfg);
  applyRootPropagation(linux.rootfsPropagation);
  applyProcessAttributes(spec);
  applyExecLabels(proc);

  const exec = becomeProcess(cfg, proc, seccomp);
  applyPersonality(linux.personality);
  return exec;
}

export function initMain(): void {
  const sock = Number(process.env[SOCK_ENV]);
  let cfg: InitConfig | undefined;
  let fifo = -1;
  try {
    // A container process must never be able to ptrace us or open our /proc/<pid>/fd (CVE-2016-9962).
    libc().prctl(C.PR_SET_DUMPABLE, 0);
    const m = readMessage(sock);
    if (!m || m.type !== MSG.INIT) throw new Error('init: expected the INIT message');
    cfg = parseJSON<InitConfig>(m);
    const { file, args, env, seccomp } = setup(cfg, sock);
    writeMessage(sock, MSG.READY);
    fs.closeSync(sock);
    // Blocks until `start` opens the other end; the fifo fd is an O_PATH handle from the parent.
    fifo = procfsReopen(cfg.fifoFd, fs.constants.O_WRONLY);
    fs.writeSync(fifo, '0');
    // The fifo stays open until execve closes it: `start` waits for that EOF, and a failure from here on is
    // written into it instead, for `start` to report.
    runContainerHooks(cfg, 'startContainer', 'created', undefined, env);
    procfsClose();
    resetSignals();
    if (seccomp) loadSeccomp(seccomp);
    libc().execve(file, args, env);
  } catch (e) {
    const msg = (e as Error).message;
    try {
      if (fifo >= 0) fs.writeSync(fifo, msg);
      else writeMessage(sock, MSG.ERROR, msg);
    } catch {
      // After READY the parent is gone; stderr is all that is left.
      try {
        fs.writeSync(2, `ocirun init: ${msg}\n`);
      } catch {
        /* nothing left */
      }
    }
    process.exit(1);
  }
}
