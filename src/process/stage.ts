// The final stage of a container process, from the spec to a StagePlan for the stub (stub/stage.c).
// Owns what becomes of process.* there: capability masks, rlimits, the environment with HOME, the compiled
// seccomp filter and its SCMP_ACT_NOTIFY listener, scheduler and I/O priority. exec's runtime and create's init share it.
import * as fs from 'node:fs';
import type { LinuxSeccomp, Process, Spec } from '../oci';
import { capabilityNumber, rlimitNumber } from '../oci';
import { libc } from '../linux/libc';
import { SOCK_CLOEXEC } from '../linux/constants';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/compile';
import { ioprioValue, schedAttr, u64 } from '../init/attributes';
import type { StageHook, StagePlan } from './plan';
import { envObject, hookCommand, hookName, type HookKind, type HookState } from './hook';
import type { Hooks } from '../oci/spec';

// Capabilities the running kernel does not know are dropped; create has warned about them already
// (src/container/preflight.ts), on the runtime's log rather than the container's stderr.
export function capMask(names: string[] | undefined, last: number, set: string): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = capabilityNumber(n);
    if (bit === undefined) throw new Error(`process.capabilities.${set}: unknown capability ${n}`);
    if (bit > last) continue;
    m |= 1n << BigInt(bit);
  }
  return m;
}

/**
 * The environment as runc 1.1 builds it with os.Setenv: a repeated name keeps its first position and
 * its last value. HOME, when missing or empty, comes from the container's /etc/passwd (`home`), "/" if
 * the user has no entry there.
 */
export function processEnv(env: string[], home: () => string | undefined): string[] {
  const names: string[] = [];
  const values = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`process.env: invalid environment variable: ${JSON.stringify(entry)}`);
    const name = entry.slice(0, eq);
    if (!values.has(name)) names.push(name);
    values.set(name, entry.slice(eq + 1));
  }
  if (!values.get('HOME')) {
    if (!values.has('HOME')) names.push('HOME');
    values.set('HOME', home() || '/');
  }
  return names.map((n) => `${n}=${values.get(n)}`);
}

// The home directory of uid in an /etc/passwd text: the first entry's sixth field.
export function passwdHome(text: string, uid: number): string | undefined {
  return text.split('\n').find((l) => l.split(':')[2] === String(uid))?.split(':')[5];
}

export interface PreparedSeccomp {
  compiled: CompiledSeccomp;
  // SCMP_ACT_NOTIFY: a socket connected to listenerPath; the stage sends the listener fd over it.
  listenerFd?: number;
}

// Compiled, and its listener connected, while the host's paths are visible: listenerPath is a host path,
// as for runc, whose runtime process sends the fd from the host.
export function prepareSeccomp(s: LinuxSeccomp | undefined): PreparedSeccomp | undefined {
  // runc: no default action and no syscalls means no seccomp at all.
  if (!s || (!s.defaultAction && !(s.syscalls ?? []).length)) return undefined;
  if (!s.defaultAction) throw new Error('linux.seccomp.defaultAction: required');
  const compiled = compileSeccomp(s);
  if (!compiled.notify) return { compiled };
  if (!s.listenerPath) throw new Error('linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY');
  const fd = libc().socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | SOCK_CLOEXEC, 0);
  try {
    libc().unixConnect(fd, s.listenerPath);
  } catch (e) {
    fs.closeSync(fd);
    throw new Error(`linux.seccomp.listenerPath: cannot connect to ${s.listenerPath}: ${(e as Error).message}`);
  }
  return { compiled, listenerFd: fd };
}

export interface ListenerFacts {
  ociVersion: string;
  id: string;
  bundle: string;
  spec: Spec;
  // The host pid of the process that loads the filter.
  pid: number;
  // creating: the init (whose pid the state names too); running: an exec'd process.
  status: 'creating' | 'running';
}

// runtime-spec's seccomp state ("The Container Process State"), sent with the listener fd.
export function listenerState(f: ListenerFacts): string {
  return JSON.stringify({
    ociVersion: f.ociVersion,
    fds: ['seccompFd'],
    pid: f.pid,
    metadata: f.spec.linux?.seccomp?.listenerMetadata ?? '',
    state: {
      ociVersion: f.ociVersion,
      id: f.id,
      status: f.status,
      pid: f.status === 'creating' ? f.pid : undefined,
      bundle: f.bundle,
      annotations: f.spec.annotations ?? {},
    },
  });
}

export interface StageFacts {
  // The host's cap_last_cap, read by the runtime (lastCap in src/container/preflight.ts).
  lastCap: number;
  // The final environment (processEnv).
  env: string[];
  preserveFds: number;
  procfsFd?: number;
  seccomp?: PreparedSeccomp;
}

/** Everything of process (and the linux settings that act on it) that the stage applies. */
export function stagePlan(spec: Spec, proc: Process, f: StageFacts): StagePlan {
  const caps = proc.capabilities ?? {};
  const last = f.lastCap;
  const user = proc.user ?? { uid: 0, gid: 0 };
  const rlimits = (proc.rlimits ?? []).map((r, i) => {
    const resource = rlimitNumber(r.type);
    if (resource === undefined) throw new Error(`process.rlimits: unknown type ${r.type}`);
    return { resource, soft: u64(r.soft), hard: u64(r.hard), what: `process.rlimits[${i}] (${r.type})` };
  });
  return {
    procfsFd: f.procfsFd,
    sched: proc.scheduler && { attr: schedAttr(proc.scheduler), cpusSet: !!spec.linux?.resources?.cpu?.cpus },
    ioprio: proc.ioPriority && ioprioValue(proc.ioPriority),
    apparmor: proc.apparmorProfile || undefined,
    execLabel: proc.selinuxLabel || undefined,
    rlimits,
    cwd: proc.cwd || '/',
    seccomp: f.seccomp && { flags: f.seccomp.compiled.flags, filter: f.seccomp.compiled.filter },
    bounding: { lastCap: last, keep: capMask(caps.bounding, last, 'bounding') },
    user: { uid: user.uid, gid: user.gid, groups: user.additionalGids ?? [] },
    caps: {
      effective: capMask(caps.effective, last, 'effective'),
      permitted: capMask(caps.permitted, last, 'permitted'),
      inheritable: capMask(caps.inheritable, last, 'inheritable'),
      ambient: capMask(caps.ambient, last, 'ambient'),
    },
    noNewPrivileges: !!proc.noNewPrivileges,
    args: proc.args ?? [],
    env: f.env,
    umask: proc.user?.umask ?? 0o022,
    preserveFds: f.preserveFds,
  };
}

/**
 * Hooks the stage runs itself (startContainer), each as src/process/hook.ts would run it: argv0 and the
 * arguments, exactly its env (or, without one, the process's final environment), the state JSON on stdin.
 */
export function stageHooks(kind: HookKind, hooks: Hooks | undefined, state: HookState, inherited: string[]): StageHook[] {
  return (hooks?.[kind] ?? []).map((h, i) => {
    const c = hookCommand(h, envObject(inherited));
    return {
      name: `${hookName(kind, i)} (${h.path})`,
      path: c.file,
      argv: [c.argv0, ...c.args],
      env: Object.entries(c.env).map(([k, v]) => `${k}=${v}`),
      timeoutMs: c.timeoutMs ?? 0,
      timeoutText: (h.timeout ?? 0).toFixed(1),
      state: JSON.stringify(state),
    };
  });
}
