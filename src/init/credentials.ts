// The process's identity inside the container: rlimits, capabilities (all five sets), user and groups.
// Owns the order runc uses: bounding set, keep-caps, setgroups/setgid/setuid, then the other sets.
import * as fs from 'node:fs';
import type { Process } from '../oci';
import { rlimitNumber } from '../oci';
import { libc } from '../linux/libc';
import type { InitConfig } from './config';
import { checkExecutable, closeExtraFds, enterCwd, enterCwdAsRoot, lookPath, prepareEnv } from './exec';
import * as C from '../linux/constants';
import { debug } from '../log';
import { u64 } from './attributes';
import { errnoText } from '../linux/errors';
import { loadSeccomp, type PreparedSeccomp } from './seccomp';
import { capMask } from '../process/stage';

// Without CAP_SYS_RESOURCE a hard limit can only be lowered; runc fails the same way then.
export function applyRlimits(p: Process): void {
  (p.rlimits ?? []).forEach((r, i) => {
    const res = rlimitNumber(r.type);
    if (res === undefined) throw new Error(`process.rlimits: unknown type ${r.type}`);
    try {
      libc().prlimit(0, res, u64(r.soft), u64(r.hard));
    } catch (e) {
      throw new Error(`process.rlimits[${i}] (${r.type}): error setting rlimit type ${res}: ${errnoText(e)}`);
    }
  });
}

// Read by the runtime (once per create, see hostLsm in src/container/preflight.ts), which hands it to
// the init in InitConfig: the init never reads it, since after the pivot a container whose /proc is a
// fake directory could claim a low value and keep capabilities in the bounding set.
export function lastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return 40;
  }
}

export function dropBoundingSet(p: Process, last = lastCap()): void {
  const keep = capMask(p.capabilities?.bounding, last, 'bounding');
  for (let c = 0; c <= last; c++) {
    if (!(keep & (1n << BigInt(c)))) libc().prctl(C.PR_CAPBSET_DROP, c);
  }
}

export function setUser(p: Process): void {
  const l = libc();
  const u = p.user ?? { uid: 0, gid: 0 };
  l.prctl(C.PR_SET_KEEPCAPS, 1);
  const groups = u.additionalGids ?? [];
  try {
    l.setgroups(groups);
  } catch (e) {
    // setgroups is denied in a user namespace with setgroups=deny; fine when none are wanted.
    if (groups.length || (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  l.setresgid(u.gid, u.gid, u.gid);
  // The kernel marks a thread that becomes a user already at RLIMIT_NPROC, and execve then fails with
  // EAGAIN. glibc switches the other (Node) threads first, so the exec'ing thread would always see
  // them counted; switching it alone first makes it the user's first task, as in runc's Go init.
  l.setresuidThread(u.uid, u.uid, u.uid);
  l.setresuid(u.uid, u.uid, u.uid);
  l.prctl(C.PR_SET_KEEPCAPS, 0);
}

export function applyCapabilities(p: Process, last = lastCap()): void {
  const caps = p.capabilities ?? {};
  const eff = capMask(caps.effective, last, 'effective');
  const perm = capMask(caps.permitted, last, 'permitted');
  const inh = capMask(caps.inheritable, last, 'inheritable');
  libc().capset(eff, perm, inh);
  libc().prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL, 0);
  const amb = capMask(caps.ambient, last, 'ambient');
  for (let c = 0; c <= last; c++) {
    if (amb & (1n << BigInt(c))) {
      try {
        libc().prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, c);
      } catch (e) {
        // Raising needs the capability in the inheritable set too; runc skips such ones silently.
        debug(`cannot raise ambient capability ${c}: ${(e as Error).message}`);
      }
    }
  }
}

// The identity both inits (create's and exec's) end with, in runc's order: rlimits, environment, cwd (entered
// as root first when it can be), bounding set, user and groups, the other capability sets, no_new_privs;
// then the program looked up as that user from its cwd (PATH may hold relative entries), umask and fds.
// seccomp, as runc orders it: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it is loaded
// before anything is dropped; with it, it is returned for the caller to load right before execve, so that
// as few of the init's own syscalls as possible have to pass the container's filter.
export function becomeProcess(
  cfg: InitConfig,
  proc: Process,
  seccomp?: PreparedSeccomp,
): { file: string; args: string[]; env: string[]; seccomp?: PreparedSeccomp } {
  applyRlimits(proc);
  const env = prepareEnv(proc.env ?? [], proc.user?.uid ?? 0);
  const cwdDone = enterCwdAsRoot(proc.cwd || '/');
  if (seccomp && !proc.noNewPrivileges) loadSeccomp(seccomp);
  dropBoundingSet(proc, cfg.lastCap);
  setUser(proc);
  enterCwd(proc.cwd || '/', !cwdDone);
  applyCapabilities(proc, cfg.lastCap);
  if (proc.noNewPrivileges) libc().prctl(C.PR_SET_NO_NEW_PRIVS, 1);
  const file = lookPath(proc.args?.[0] ?? '', env);
  checkExecutable(file);
  process.umask(proc.user?.umask ?? 0o022);
  closeExtraFds(cfg.preserveFds);
  return { file, args: proc.args ?? [], env, seccomp: seccomp && proc.noNewPrivileges ? seccomp : undefined };
}
