// `exec`: a new process in a running container, joined to its namespaces and cgroups.
// Owns runc's exec rules (status checks, the process built from flags or --process, --cgroup) and the host side of the join.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capabilityNumber, OCI_VERSION, parseProcess, type Process } from '../oci';
import { cgroupDriver, isUnifiedOnly } from '../cgroups';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { warn } from '../log';
import { launch, reapStub, type Launched } from '../process/launch';
import { MSG, readMessage, writeMessage } from '../process/protocol';
import { encodePlan } from '../process/plan';
import { listenerState, passwdHome, prepareSeccomp, processEnv, stagePlan, type PreparedSeccomp } from '../process/stage';
import { procfsHandle } from '../linux/procfs';
import { hostLsm } from './preflight';
import { NS_FLAGS } from './namespaces';
import { writePidFile } from './pidfile';
import { status, type Store, type StoredState } from './state';
import { killAndReap } from './create';
import type { StdioPipes } from './stdio';
import { checkTerminal, connectConsoleSocket } from './console';
import { hostWindowSize, receiveMaster } from '../process/tty';
import { openInRoot, withFd } from '../linux/inroot';

// What the exec flags say about the process, before the container's spec fills in the rest.
export interface ProcessFlags {
  args: string[];
  cwd?: string;
  env?: string[];
  user?: string;
  additionalGids?: string[];
  caps?: string[];
  tty?: boolean;
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

export interface ExecOptions {
  // --process FILE: replaces every flag above, as in runc.
  processFile?: string;
  flags: ProcessFlags;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  cgroup?: string[];
  ignorePaused: boolean;
  // The foreground's stdio pipes, made once the container (and its root's host ids) is known.
  stdio?: (st: StoredState) => { fds: [number, number, number]; pipes?: StdioPipes };
}

export interface Execed {
  pid: number;
  pipes?: StdioPipes;
  // Foreground with a terminal: the pty master the init sent over our own console socket.
  master?: number;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

// Go's strconv.Atoi as runc uses it for --user and --additional-gids.
function atoi(s: string, what: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`${what}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

/**
 * runc 1.1's getProcess for the flag form: the container's process with args replaced, and cwd, user,
 * apparmor, label, no-new-privs overridden, env, caps and additional gids appended; terminal only from -t.
 */
export function processFromFlags(base: Process, f: ProcessFlags): Process {
  const p = clone(base);
  p.args = f.args;
  if (f.cwd) p.cwd = f.cwd;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  if (f.caps?.length) {
    const caps = (p.capabilities ??= {});
    for (const c of f.caps) {
      for (const set of ['bounding', 'effective', 'permitted'] as const) (caps[set] ??= []).push(c);
      // Ambient needs the inheritable bit; runc adds it only when the spec has an inheritable set.
      if (caps.inheritable) (caps.ambient ??= []).push(c);
    }
  }
  p.env = [...(p.env ?? []), ...(f.env ?? [])];
  p.terminal = !!f.tty;
  if (f.noNewPrivs !== undefined) p.noNewPrivileges = f.noNewPrivs;
  p.user = { ...p.user };
  if (f.user) {
    const [u, g] = splitN(f.user, ':', 2);
    if (g !== undefined) p.user.gid = atoi(g, `parsing ${g} as int for gid failed`);
    p.user.uid = atoi(u, `parsing ${u} as int for uid failed`);
  }
  for (const s of f.additionalGids ?? []) {
    const gid = atoi(s, `invalid value ${JSON.stringify(s)} for flag -additional-gids`);
    if (gid < 0) throw new Error(`additional-gids must be a positive number ${gid}`);
    (p.user.additionalGids ??= []).push(gid);
  }
  if (!p.cwd) throw new Error('Cwd property must not be empty');
  if (!p.cwd.startsWith('/')) throw new Error('Cwd must be an absolute path');
  if (!p.args?.length) throw new Error('args must not be empty');
  return p;
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/**
 * --process: the file's process; what it leaves out of caps and LSM labels is the container's (runc's
 * newInitConfig). Rlimits are not: runc 1.1 sets only the file's.
 */
export function processFromFile(base: Process, file: string): Process {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  const p = parseProcess(text, file);
  if (!p.capabilities && base.capabilities) p.capabilities = clone(base.capabilities);
  if (!p.apparmorProfile && base.apparmorProfile) p.apparmorProfile = base.apparmorProfile;
  if (!p.selinuxLabel && base.selinuxLabel) p.selinuxLabel = base.selinuxLabel;
  return p;
}

// As runc: unknown names are dropped with one warning instead of failing the exec.
function dropUnknownCaps(p: Process): void {
  const caps = p.capabilities;
  if (!caps) return;
  const unknown = new Set<string>();
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    const list = caps[set];
    if (!list) continue;
    caps[set] = list.filter((c) => {
      if (capabilityNumber(c) !== undefined) return true;
      unknown.add(c);
      return false;
    });
  }
  if (unknown.size) warn(`ignoring unknown or unavailable capabilities: [${[...unknown].join(' ')}]`);
}

/**
 * runc 1.1's --cgroup: one bare path (every hierarchy) or `ctrl[,ctrl]:path` entries (the last one for a
 * controller wins). The result must stay below the container's cgroup and must exist.
 */
export function subCgroupPaths(paths: Record<string, string>, args: string[] = []): Record<string, string> {
  if (!args.length) return paths;
  const sub = new Map<string, string>();
  for (const a of args) {
    const cs = a.split(':');
    if (cs.length > 2) throw new Error(`invalid --cgroup argument: ${a}`);
    if (cs.length === 1) {
      if (args.length !== 1) throw new Error(`invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      sub.set('', a);
      continue;
    }
    for (const ctrl of cs[0].split(',')) {
      if (!ctrl) throw new Error(`invalid --cgroup argument: ${a} (empty <controller> prefix)`);
      sub.set(ctrl, cs[1]);
    }
  }
  const out = { ...paths };
  const below = (key: string, rel: string) => {
    const base = paths[key];
    const joined = path.join(base, rel);
    if (joined !== base && !joined.startsWith(base + '/')) throw new Error(`unable to create new parent process: ${rel} is not a sub cgroup path`);
    out[key] = joined;
  };
  if (sub.has('')) {
    for (const key of Object.keys(paths)) below(key, sub.get('')!);
    return out;
  }
  for (const [ctrl, rel] of sub) {
    // Our keys are hierarchies ("cpu,cpuacct"); runc's are single controllers of the same directories.
    const key = isUnifiedOnly(paths) ? undefined : Object.keys(paths).find((k) => k.split(',').includes(ctrl));
    if (key === undefined) throw new Error(`unable to create new parent process: unknown controller ${ctrl} in SubCgroupPaths`);
    below(key, rel);
  }
  return out;
}

const NS_ORDER = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup', 'time'] as const;
const NS_FILE: Record<string, string> = {
  user: 'user', mount: 'mnt', pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', time: 'time',
};

interface Joined {
  // Every namespace of the init that is not ours already, the mount namespace included.
  join: { fd: number; type: number }[];
  // The container's /etc/passwd, when HOME has to come from it.
  passwd?: string;
}

function closeJoins(j: Joined): void {
  for (const x of j.join) fs.closeSync(x.fd);
  j.join = [];
}

/**
 * The init's namespaces and, if asked for, its /etc/passwd, all through one fd of its /proc directory
 * (a recycled pid makes the lookups fail instead of naming another process). The file is resolved in the
 * init's root with RESOLVE_IN_ROOT, so no link of the image can lead out of it.
 */
function openContainer(st: StoredState, wantPasswd: boolean): Joined {
  const j: Joined = { join: [] };
  let dir = -1;
  try {
    try {
      dir = fs.openSync(`/proc/${st.pid}`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | C.O_CLOEXEC);
    } catch {
      throw new Error('cannot exec in a stopped container');
    }
    const base = `/proc/self/fd/${dir}`;
    const stat = fs.readFileSync(`${base}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] !== st.pidStartTime) throw new Error('cannot exec in a stopped container');
    for (const type of NS_ORDER) {
      const file = `${base}/ns/${NS_FILE[type]}`;
      let theirs: fs.Stats;
      try {
        theirs = fs.statSync(file);
      } catch (e) {
        // A kernel without time namespaces has no ns/time.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const ours = fs.statSync(`/proc/self/ns/${NS_FILE[type]}`);
      if (ours.ino === theirs.ino && ours.dev === theirs.dev) continue;
      j.join.push({ fd: fs.openSync(file, fs.constants.O_RDONLY | C.O_CLOEXEC), type: NS_FLAGS[type] });
    }
    if (wantPasswd) j.passwd = readInRoot(`${base}/root`, '/etc/passwd');
    return j;
  } catch (e) {
    closeJoins(j);
    throw e;
  } finally {
    if (dir >= 0) fs.closeSync(dir);
  }
}

function readInRoot(root: string, file: string): string | undefined {
  try {
    return withFd(fs.openSync(root, C.O_PATH | fs.constants.O_DIRECTORY | C.O_CLOEXEC), (rootFd) =>
      withFd(openInRoot(rootFd, file, fs.constants.O_RDONLY), (fd) => fs.readFileSync(fd, 'utf8')),
    );
  } catch {
    return undefined;
  }
}

const homeWanted = (env: string[] = []) => !env.some((e) => e.startsWith('HOME=') && e.length > 5);

/**
 * Starts the process and returns once it has exec'd (or fails with the stub's error, leaving nothing).
 * The stub joins the container's namespaces and forks into its pid namespace; the child runs the final
 * stage of the PLAN computed here (stub/stage.c) and execve()s the program: no second Node starts.
 * The caller is a subreaper: the process is reparented to it when the stub exits.
 */
export function execInContainer(store: Store, id: string, o: ExecOptions): Execed {
  const st = store.load(id);
  const s = status(store, st);
  if (s === 'stopped') throw new Error('cannot exec in a stopped container');
  if (s === 'paused' && !o.ignorePaused) throw new Error('cannot exec in a paused container (use --ignore-paused to override)');
  if (!o.processFile && !o.flags.args.length) throw new Error('process args cannot be empty');
  const base = st.config.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' };
  const proc = o.processFile ? processFromFile(base, o.processFile) : processFromFlags(base, o.flags);
  dropUnknownCaps(proc);
  if (proc.selinuxLabel && !hostLsm().selinux) throw new Error('selinux label is specified in config, but selinux is disabled or not supported');
  checkTerminal(!!proc.terminal, o.detach, o.consoleSocket);
  // In the foreground the pty gets our terminal's size before the program starts (runc resizes after).
  if (proc.terminal && !o.detach && !proc.consoleSize) proc.consoleSize = hostWindowSize();
  const cgPaths = subCgroupPaths(st.cgroupPaths, o.cgroup);
  const spec = { ...st.config, process: proc };

  const l = libc();
  l.prctl(C.PR_SET_CHILD_SUBREAPER, 1);
  const joined = openContainer(st, homeWanted(proc.env));
  let launched: Launched | undefined;
  let pipes: StdioPipes | undefined;
  // The stage sends the pty master over the console socket: --console-socket's, or our own socketpair.
  let consoleFd: number | undefined;
  let consoleOurs: number | undefined;
  let seccomp: PreparedSeccomp | undefined;
  try {
    // What the stage needs from the host, made while our paths are visible. Errors read as the init's did.
    let env: string[];
    try {
      env = processEnv(proc.env ?? [], () => passwdHome(joined.passwd ?? '', proc.user?.uid ?? 0));
      // As runc, exec uses the container's linux.seccomp.
      seccomp = prepareSeccomp(spec.linux?.seccomp);
    } catch (e) {
      throw new Error(`unable to start container process: ${(e as Error).message}`);
    }
    if (proc.terminal && o.consoleSocket) consoleFd = connectConsoleSocket(o.consoleSocket);
    else if (proc.terminal) [consoleOurs, consoleFd] = l.socketpair();
    // With a terminal the pty is the process's stdio; the stage starts with ours until it dup2s the slave.
    const io = proc.terminal ? undefined : o.stdio?.(st);
    pipes = io?.pipes;
    const extraFds: Record<string, number> = { procfs: procfsHandle() };
    if (consoleFd !== undefined) extraFds.console = consoleFd;
    if (seccomp?.listenerFd !== undefined) extraFds.listener = seccomp.listenerFd;
    launched = launch({
      cloneFlags: 0,
      join: joined.join,
      stdio: io?.fds ?? [0, 1, 2],
      preserveFds: o.preserveFds,
      extraFds,
      stage: true,
      beforeBootstrap: (stubPid) => {
        try {
          cgroupDriver(cgPaths).join(stubPid);
        } catch (e) {
          throw new Error(`unable to start container process: error adding pid ${stubPid} to cgroups: ${(e as Error).message}`);
        }
        if (proc.oomScoreAdj !== undefined) fs.writeFileSync(`/proc/${stubPid}/oom_score_adj`, String(proc.oomScoreAdj));
      },
    });
    closeJoins(joined);
    for (const fd of [consoleFd, seccomp?.listenerFd]) if (fd !== undefined) fs.closeSync(fd);
    consoleFd = undefined;
    const fds = launched.fds;
    const plan = stagePlan(spec, proc, { lastCap: hostLsm().lastCap, env, preserveFds: o.preserveFds, procfsFd: fds.procfs, seccomp });
    // runc's setns init: a session and a session keyring of its own name, not the container's.
    plan.setsid = true;
    plan.keyring = `_ses.${st.id}`;
    plan.keyLabel = proc.selinuxLabel;
    if (fds.console !== undefined) {
      const size = proc.consoleSize;
      plan.console = { fd: fds.console, rows: size?.height ?? 0, cols: size?.width ?? 0, clearOnlcr: consoleOurs !== undefined };
    }
    if (plan.seccomp && fds.listener !== undefined) {
      const state = listenerState({ ociVersion: OCI_VERSION, id: st.id, bundle: st.bundle, spec, pid: launched.pid, status: 'running' });
      plan.seccomp.listener = { fd: fds.listener, state };
    }
    writeMessage(launched.sock, MSG.PLAN, encodePlan(plan));
    let master: number | undefined;
    if (consoleOurs !== undefined) {
      try {
        master = withFd(consoleOurs, receiveMaster);
      } catch (e) {
        // The stage failed before sending it: its own message says why.
        const m = readMessage(launched.sock);
        if (m?.type === MSG.ERROR) throw new Error(`unable to start container process: ${m.payload.toString('utf8')}`);
        throw e;
      } finally {
        consoleOurs = undefined;
      }
    }
    // No message is success: the socket is close-on-exec, so EOF means the program replaced the stage.
    const m = readMessage(launched.sock);
    if (m?.type === MSG.ERROR) throw new Error(`unable to start container process: ${m.payload.toString('utf8')}`);
    if (m) throw new Error(`protocol: unexpected message ${m.type} from the exec stage`);
    fs.closeSync(launched.sock);
    // Until the stub is gone the process is its child, not ours, and waitpid would not see it.
    reapStub(launched);
    const pid = launched.pid;
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return { pid, pipes, master };
  } catch (e) {
    closeJoins(joined);
    for (const fd of [consoleFd, consoleOurs]) if (fd !== undefined) fs.closeSync(fd);
    if (!launched && seccomp?.listenerFd !== undefined) fs.closeSync(seccomp.listenerFd);
    if (launched) {
      try {
        fs.closeSync(launched.sock);
      } catch {
        /* closed already */
      }
      reapStub(launched);
      // Once the stub is gone the process is our child (we are its subreaper): its pid cannot be reused until reaped.
      killAndReap(launched.pid, true);
    }
    throw e;
  }
}
