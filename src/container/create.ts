// `create`: from a bundle to a container whose init waits on the exec fifo.
// Owns the host side of start-up and its undo: every failure removes the process, cgroups and state dir.
import { O_CLOEXEC, O_PATH } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCI_VERSION, parseConfig, type Spec } from '../oci';
import { libc } from '../linux/libc';
import { sleepMs } from '../linux/sleep';
import * as C from '../linux/constants';
import { launch, reapStub } from '../process/launch';
import { MSG, readMessage, sendJSON } from '../process/protocol';
import { driverForContainer } from '../cgroups';
import { warn } from '../log';
import { deviceRules } from '../cgroups/devices';
import { hostHierarchies, hierarchyKey } from '../cgroups/hierarchy';
import type { InitConfig } from '../init/config';
import { validateId } from './id';
import { checkJoinedUserMappings, closePlan, planNamespaces, type NamespacePlan } from './namespaces';
import { setupNetwork } from './netdev';
import { FIFO, Store, procStartTime, type StoredState } from './state';
import { writePidFile } from './pidfile';
import { checkSysctls } from './sysctl';
import { answerHookRequest, runPoststop } from './hooks';
import { hostLsm, preflight, type HostLsm } from './preflight';
import { resetCPUAffinity } from './affinity';
import { checkMounts, prepareIdmappedMounts } from './mounts';
import { procfsWrite } from '../linux/procfs';
import { notifySpec } from './notify';
import { isoTime } from '../time';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  // Socket activation: LISTEN_FDS fds come first from 3, then the --preserve-fds ones (passfds.ts).
  listenFds?: number;
  // The host's NOTIFY_SOCKET: the container gets the proxy's directory and its own NOTIFY_SOCKET (notify.ts).
  notifySocket?: string;
  // --systemd-cgroup: cgroupsPath is "slice:prefix:name".
  systemdCgroup?: boolean;
  // `run` keeps the init as its child (subreaper) to wait for it.
  subreaper?: boolean;
  // The container's stdio, chosen once the spec is known (run's pipes belong to container root).
  stdio?: (spec: Spec) => [number, number, number];
  // process.terminal: the console socket the init sends the pty master over, chosen once the spec is known
  // (src/container/console.ts). create owns the fd from then on and closes it once the init has its copy.
  console?: (spec: Spec) => number | undefined;
}

export function loadBundle(bundleArg: string): { bundle: string; spec: Spec; rootfs: string; host: HostLsm } {
  const bundle = path.resolve(bundleArg);
  let st: fs.Stats;
  try {
    st = fs.statSync(bundle);
  } catch {
    throw new Error(`bundle ${bundle}: no such directory`);
  }
  if (!st.isDirectory()) throw new Error(`bundle ${bundle}: not a directory`);
  let text: string;
  try {
    text = fs.readFileSync(path.join(bundle, 'config.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path.join(bundle, 'config.json')}: no such file`);
    throw e;
  }
  const spec = parseConfig(text);
  checkSysctls(spec);
  const host = hostLsm();
  preflight(spec, host);
  const rootPath = spec.root!.path;
  // A relative root.path names part of the bundle; one that climbs out of it ("../x") is refused,
  // though runc follows it: a bundle must not hand the runtime somebody else's directory by accident.
  if (!path.isAbsolute(rootPath) && path.posix.normalize(rootPath).split('/')[0] === '..') {
    throw new Error(`root.path: ${JSON.stringify(rootPath)} leads out of the bundle directory ${bundle}`);
  }
  const rootfs = path.resolve(bundle, rootPath);
  if (!fs.existsSync(rootfs) || !fs.statSync(rootfs).isDirectory()) throw new Error(`rootfs (${rootfs}) does not exist`);
  // As runc: the rootfs path must already be canonical, so that what was checked is what gets mounted.
  if (fs.realpathSync(rootfs) !== rootfs) throw new Error(`root.path: invalid rootfs ${rootfs}: not an absolute path, or a symlink`);
  return { bundle, spec, rootfs, host };
}

export function create(store: Store, o: CreateOptions): StoredState {
  const id = validateId(o.id);
  const { bundle, spec, rootfs, host } = loadBundle(o.bundle);
  checkMounts(spec, !!o.noPivot);
  fs.mkdirSync(store.root, { recursive: true, mode: 0o711 });
  const dir = store.dir(id);
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`container with given ID already exists: ${id}`);
    throw e;
  }
  const l = libc();
  const undo: (() => void)[] = [() => fs.rmSync(dir, { recursive: true, force: true })];
  let plan: NamespacePlan = { cloneFlags: 0, join: [] };
  let pid = 0;
  let lock = -1;
  let consoleFd: number | undefined;
  try {
    // As runc: checked (and connected) once the container exists, so a refusal also removes it.
    consoleFd = o.console?.(spec);
    if (consoleFd !== undefined) undo.push(() => fs.closeSync(consoleFd!));
    lock = store.lock(id);
    const initSpec = plumbedSpec(spec, dir, o);
    const passFds = (o.listenFds ?? 0) + (o.preserveFds ?? 0);
    plan = planNamespaces(spec.linux?.namespaces);
    const fifo = path.join(dir, FIFO);
    l.mkfifo(fifo, 0o622);
    fs.chmodSync(fifo, 0o622);
    const fifoFd = fs.openSync(fifo, O_PATH | O_CLOEXEC);
    undo.push(() => fs.closeSync(fifoFd));

    if (o.subreaper) l.prctl(C.PR_SET_CHILD_SUBREAPER, 1);
    const linux = spec.linux ?? {};
    const userns = (plan.cloneFlags & C.CLONE_NEWUSER) !== 0 || plan.join.some((j) => j.type === C.CLONE_NEWUSER);
    const timens = Object.entries(linux.timeOffsets ?? {})
      .map(([clock, off]) => `${clock} ${off.secs ?? 0} ${off.nanosecs ?? 0}\n`)
      .join('');
    const idmapped = prepareIdmappedMounts(spec, bundle);
    undo.push(() => idmapped.close());
    const mntJoin = plan.join.find((j) => j.type === C.CLONE_NEWNS);
    // A new cgroup namespace is made by the init once it is in its cgroups (see below); everything else by the stub.
    const cgroupns = (plan.cloneFlags & C.CLONE_NEWCGROUP) !== 0;
    const launched = launch({
      cloneFlags: plan.cloneFlags & ~C.CLONE_NEWCGROUP,
      join: plan.join.filter((j) => j !== mntJoin),
      timensOffsets: timens || undefined,
      uidMappings: linux.uidMappings,
      gidMappings: linux.gidMappings,
      stdio: o.stdio?.(spec) ?? [0, 1, 2],
      preserveFds: passFds,
      // A joined mount namespace is entered by the init itself, not the stub (src/init/mntns.ts).
      extraFds: {
        fifo: fifoFd,
        ...idmapped.fds,
        ...(consoleFd !== undefined ? { console: consoleFd } : {}),
        ...(mntJoin ? { mnt: mntJoin.fd } : {}),
      },
    });
    reapStub(launched);
    pid = launched.pid;
    undo.push(() => fs.closeSync(launched.sock));
    closePlan(plan);

    // The init is booting (a whole JS engine) and waits for INIT: the cgroups are made and joined meanwhile,
    // runc's order too (its init is moved once started). Moving a process is slow on cgroup v1 (the attach
    // waits for an RCU grace period), so overlapping it with the boot is most of what this order buys.
    const hierarchies = hostHierarchies();
    const cg = driverForContainer(spec, id, { systemdCgroup: o.systemdCgroup, hierarchies });
    const made = cg.create();
    // Joining a cgroup that already has processes (runc 1.1 warns likewise; CRI pods share cgroups).
    if (made.length < Object.keys(cg.paths).length) {
      const present = cg.pids().length;
      if (present) warn(`container's cgroup is not empty: ${present} process(es) found`);
    }
    undo.push(() => removeDirs(made));
    // As runc: the limits go in once the init has set itself up and before any hook or user code runs
    // (prestart hooks may add device rules of their own, which must not be reset afterwards).
    let applied = false;
    const applyResources = () => {
      if (applied) return;
      applied = true;
      cg.apply({ ...spec.linux?.resources, devices: deviceRules(spec) });
    };

    cg.join(pid);
    resetCPUAffinity(pid);
    const adj = spec.process?.oomScoreAdj;
    if (adj !== undefined) procfsWrite(`${pid}/oom_score_adj`, String(adj));
    // The init is waiting for INIT: nothing of the container's own has run yet.
    try {
      checkJoinedUserMappings(spec, pid);
      setupNetwork(spec, pid);
    } catch (e) {
      // An init that could not even start has reported why on the socket before dying.
      const m = procStartTime(pid) === undefined ? readMessage(launched.sock) : undefined;
      if (m?.type === MSG.ERROR) throw new Error(`unable to start container process: ${m.payload.toString('utf8')}`);
      throw e;
    }

    const init: InitConfig = {
      id,
      ociVersion: OCI_VERSION,
      config: initSpec,
      bundle,
      rootfs,
      noPivot: !!o.noPivot,
      noNewKeyring: !!o.noNewKeyring,
      preserveFds: passFds,
      fifoFd: launched.fds.fifo,
      cgroups: hierarchies.map((h) => ({ controllers: h.controllers, unified: h.unified, dir: cg.paths[hierarchyKey(h)] })),
      userns,
      lastCap: host.lastCap,
      mountFds: idmapped.inChild(launched.fds),
      consoleFd: launched.fds.console,
      mntFd: launched.fds.mnt,
      cgroupns,
    };
    idmapped.close();
    sendJSON(launched.sock, MSG.INIT, init);
    for (;;) {
      const m = readMessage(launched.sock);
      if (!m) throw new Error('container init exited unexpectedly');
      if (m.type === MSG.ERROR) throw new Error(`unable to start container process: ${m.payload.toString('utf8')}`);
      if (m.type === MSG.READY) {
        applyResources();
        break;
      }
      if (m.type === MSG.HOOK) {
        applyResources();
        // runc chdirs into the bundle for create and run; its hooks inherit that cwd.
        answerHookRequest(launched.sock, spec, { id, bundle, annotations: spec.annotations }, pid, bundle);
        continue;
      }
      throw new Error(`protocol: unexpected message ${m.type} from the container init`);
    }
    const startTime = procStartTime(pid);
    if (!startTime) throw new Error('container init exited unexpectedly');
    const state: StoredState = {
      id,
      pid,
      pidStartTime: startTime,
      bundle,
      rootfs,
      created: isoTime(),
      owner: '',
      annotations: spec.annotations,
      cgroupPaths: cg.paths,
      config: spec,
    };
    store.save(state);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    fs.closeSync(launched.sock);
    fs.closeSync(fifoFd);
    if (consoleFd !== undefined) fs.closeSync(consoleFd);
    fs.closeSync(lock);
    return state;
  } catch (e) {
    closePlan(plan);
    if (pid) killAndReap(pid, !!o.subreaper);
    if (lock >= 0) fs.closeSync(lock);
    for (const f of undo.reverse()) {
      try {
        f();
      } catch {
        /* keep undoing the rest */
      }
    }
    // As runc's destroy does: a failed create is a destroyed container (runtime.md lifecycle step 12, then 13).
    runPoststop(spec, { id, bundle, annotations: spec.annotations }, bundle);
    throw e;
  }
}

// What only this start of the process gets (runc adds them to its process, not to the bundle's config, which exec
// reads): LISTEN_FDS/LISTEN_PID, and the sd_notify proxy's mount and NOTIFY_SOCKET.
function plumbedSpec(spec: Spec, dir: string, o: CreateOptions): Spec {
  const env: string[] = [];
  const mounts = [...(spec.mounts ?? [])];
  if (o.notifySocket) {
    const n = notifySpec(dir);
    mounts.push(n.mount);
    env.push(n.env);
  }
  if (o.listenFds) env.push(`LISTEN_FDS=${o.listenFds}`, 'LISTEN_PID=1');
  if (!env.length && mounts.length === (spec.mounts?.length ?? 0)) return spec;
  return { ...spec, mounts, process: spec.process && { ...spec.process, env: [...(spec.process.env ?? []), ...env] } };
}

// Undoes a failed create's mkdirs, deepest first; a directory someone else made stays.
function removeDirs(dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    for (let i = 0; i < 500; i++) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') break;
        sleepMs(2);
      }
    }
  }
}

// As a subreaper the init is our child and can be reaped; otherwise wait until it is gone or a zombie.
export function killAndReap(pid: number, isChild: boolean): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (isChild) {
    try {
      libc().waitpid(pid, 0);
      return;
    } catch {
      /* not our child after all */
    }
  }
  waitGone(pid);
}

export function waitGone(pid: number, timeoutMs = 10_000): void {
  const end = Date.now() + timeoutMs;
  while (procStartTime(pid) !== undefined && Date.now() < end) sleepMs(1);
}
