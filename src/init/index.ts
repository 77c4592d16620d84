// `ocirun init`: the JS half of container start, running inside namespaces the stub prepared.
// Owns the order of the container's set-up up to the final stage, which it hands to the stub (./handoff).
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { MSG, SOCK_ENV, STUB_FD_ENV, readMessage, writeMessage, parseJSON } from '../process/protocol';
import type { InitConfig } from './config';
import { finalizeRootfs, prepareRootfs, protectPaths } from './rootfs';
import { applyRootPropagation } from './mounts';
import { requestRuntimeHooks, runCreateContainerHooks } from './hooks';
import { applyMemoryPolicy, personalityValue } from './attributes';
import { setKeyLabel } from './lsm';
import { setupConsole } from './console';
import { procfsHandle, procfsWrite } from '../linux/procfs';
import { passwdEntry } from '../linux/passwd';
import { joinMountNamespace } from './mntns';
import { listenerState, prepareSeccomp, processEnv, stageHooks, stagePlan } from '../process/stage';
import type { StagePlan } from '../process/plan';
import { hookState } from '../process/hook';
import { handOff } from './handoff';

// Everything up to the final stage, which the stub runs from the returned plan (./handoff).
function setup(cfg: InitConfig, sock: number): StagePlan {
  const l = libc();
  const spec = cfg.config;
  const proc = spec.process;
  if (!proc) throw new Error('process: required');
  const linux = spec.linux ?? {};
  const ns = new Set((linux.namespaces ?? []).map((n) => n.type));

  // One thread's namespace, as unshare(CLONE_NEWCGROUP) implies nothing else: the thread that execs.
  if (cfg.cgroupns) l.unshare(C.CLONE_NEWCGROUP);
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
  const procfs = procfsHandle();
  // Compiled (and its listener connected) while the host's paths and /proc are still visible; the listener's
  // state names our host pid, read from the host's /proc.
  const seccomp = prepareSeccomp(linux.seccomp);
  const hostPid = seccomp?.listenerFd !== undefined ? Number(fs.readlinkSync('/proc/self')) : 0;
  // linux.namespaces joins a mount namespace by path: entered here, not by the stub (see ./mntns).
  if (cfg.mntFd !== undefined) joinMountNamespace(cfg.mntFd);
  prepareRootfs(cfg, () => {
    requestRuntimeHooks(cfg, sock);
    runCreateContainerHooks(cfg);
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
  // Inherited by the stub and the program; the stage sets the scheduler and I/O priority itself.
  applyMemoryPolicy(linux.memoryPolicy);

  // HOME from the container's /etc/passwd, as "/" shows it now.
  const env = processEnv(proc.env ?? [], () => passwdEntry(proc.user?.uid ?? 0)?.[5]);
  const plan = stagePlan(spec, proc, { lastCap: cfg.lastCap, env, preserveFds: cfg.preserveFds, procfsFd: procfs, seccomp });
  if (plan.seccomp && seccomp?.listenerFd !== undefined) {
    const state = listenerState({ ociVersion: cfg.ociVersion, id: cfg.id, bundle: cfg.bundle, spec, pid: hostPid, status: 'creating' });
    plan.seccomp.listener = { fd: seccomp.listenerFd, state };
  }
  if (linux.personality) plan.personality = personalityValue(linux.personality);
  plan.ready = true;
  plan.fifoFd = cfg.fifoFd;
  // pid as the container sees it: runtime.md says so for hooks run in the container namespace.
  const state = hookState({ ociVersion: cfg.ociVersion, id: cfg.id, bundle: cfg.bundle, annotations: spec.annotations }, 'created', process.pid);
  plan.hooks = stageHooks('startContainer', spec.hooks, state, env);
  return plan;
}

export function initMain(): void {
  const sock = Number(process.env[SOCK_ENV]);
  try {
    // A container process must never be able to ptrace us or open our /proc/<pid>/fd (CVE-2016-9962).
    libc().prctl(C.PR_SET_DUMPABLE, 0);
    const stub = Number(process.env[STUB_FD_ENV]);
    const m = readMessage(sock);
    if (!m || m.type !== MSG.INIT) throw new Error('init: expected the INIT message');
    const cfg = parseJSON<InitConfig>(m);
    handOff(setup(cfg, sock), sock, stub);
  } catch (e) {
    const msg = (e as Error).message;
    try {
      writeMessage(sock, MSG.ERROR, msg);
    } catch {
      // The runtime is gone; stderr is all that is left.
      try {
        fs.writeSync(2, `ocirun init: ${msg}\n`);
      } catch {
        /* nothing left */
      }
    }
    process.exit(1);
  }
}
