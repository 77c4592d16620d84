// Starts a container process: the C stub from its memfd, the bootstrap handshake, the id-map writes.
// Owns the parent side of the stub protocol; returns the host pid of the process the stub forked (`ocirun init`,
// or exec's final stage).
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import { ignoring } from '../linux/errors';
import { koffiAddonFd, KOFFI_FD_ENV } from '../linux/native';
import { CLONE_NEWUSER } from '../linux/constants';
import { ATTR, AttrWriter, MSG, SOCK_ENV, STUB_FD_ENV, readMessage, writeMessage } from './protocol';
import { sealedSelf, stubMemfd } from './seal';
import { procfsWrite } from '../linux/procfs';
import type { LinuxIDMapping } from '../oci';

export interface LaunchOptions {
  cloneFlags: number;
  join: { fd: number; type: number }[];
  timensOffsets?: string;
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  setgroupsDeny?: boolean;
  stdio: [number, number, number];
  preserveFds: number;
  // More fds for the init, after ours; the init learns their numbers from the returned map.
  extraFds: Record<string, number>;
  // Runs with the stub's pid before it creates any namespace: cgroup placement, oom_score_adj.
  beforeBootstrap?: (stubPid: number) => void;
  // exec: the stub's child runs the final stage of a PLAN message, sent after PID, instead of exec'ing ocirun init,
  // so it gets neither ocirun nor the addon, and may join the mount namespace itself.
  stage?: boolean;
}

export interface Launched {
  pid: number;
  sock: number;
  // The stub's pid: our child, reaped by the caller once it has exited (right after PID).
  stubPid: number;
  fds: Record<string, number>;
}

const mapText = (m: LinuxIDMapping[] = []) => m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');

export function launch(o: LaunchOptions): Launched {
  const l = libc();
  const [ours, theirs] = l.socketpair();
  const opened: number[] = [theirs];
  let stubPid = 0;
  try {
    const exe = o.stage ? -1 : sealedSelf();
    if (exe >= 0) opened.push(exe);
    const stub = stubMemfd();
    opened.push(stub);
    const addon = o.stage ? -1 : koffiAddonFd();

    // Child fd layout: 0-2 stdio, 3.. preserved fds (same numbers), then ours.
    const stdio: (number | 'ignore')[] = [...o.stdio];
    for (let i = 0; i < o.preserveFds; i++) stdio.push(3 + i);
    const place = (fd: number) => stdio.push(fd) - 1;
    const sockAt = place(theirs);
    const exeAt = exe >= 0 ? place(exe) : -1;
    const fds: Record<string, number> = {};
    for (const [name, fd] of Object.entries(o.extraFds)) fds[name] = place(fd);
    const addonAt = addon >= 0 ? place(addon) : -1;
    const stubAt = o.stage ? -1 : place(stub);
    const join = o.join.map((j) => ({ fd: place(j.fd), type: j.type }));

    const env: Record<string, string> = { [SOCK_ENV]: String(sockAt) };
    if (addonAt >= 0) env[KOFFI_FD_ENV] = String(addonAt);
    if (stubAt >= 0) env[STUB_FD_ENV] = String(stubAt);
    stubPid = spawnStub(stub, stdio, env);
    for (const fd of opened) fs.closeSync(fd);
    opened.length = 0;

    o.beforeBootstrap?.(stubPid);

    const attrs = new AttrWriter().u32(ATTR.CLONE_FLAGS, o.cloneFlags);
    if (o.stage) attrs.add(ATTR.STAGE, Buffer.alloc(0));
    else attrs.u32(ATTR.EXE_FD, exeAt).strings(ATTR.ARGV, ['ocirun', 'init']);
    for (const j of join) attrs.u32(ATTR.NS_JOIN, j.fd, j.type);
    if (o.timensOffsets) attrs.add(ATTR.TIMENS_OFFSETS, Buffer.from(o.timensOffsets));
    writeMessage(ours, MSG.BOOTSTRAP, attrs.build());

    const maps = o.cloneFlags & CLONE_NEWUSER ? o : undefined;
    const pid = awaitStubPid(ours, stubPid, maps, 'the ocirun stub exited without reporting the init pid');
    return { pid, sock: ours, stubPid, fds };
  } catch (e) {
    for (const fd of opened) fs.closeSync(fd);
    fs.closeSync(ours);
    killStub(stubPid);
    throw e;
  }
}

export interface StubMaps {
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  setgroupsDeny?: boolean;
}

// The rest of the handshake after BOOTSTRAP: the id maps of a new user namespace when the stub asks
// (maps undefined: it must not ask), then the pid it reports. eof says what it means if it just exits.
export function awaitStubPid(sock: number, stubPid: number, maps: StubMaps | undefined, eof: string): number {
  for (;;) {
    const m = readMessage(sock);
    if (!m) throw new Error(eof);
    if (m.type === MSG.ERROR) throw new Error(m.payload.toString('utf8'));
    if (m.type === MSG.MAPS_REQUEST && maps) {
      if (maps.setgroupsDeny) procfsWrite(`${stubPid}/setgroups`, 'deny');
      procfsWrite(`${stubPid}/uid_map`, mapText(maps.uidMappings));
      procfsWrite(`${stubPid}/gid_map`, mapText(maps.gidMappings));
      writeMessage(sock, MSG.MAPS_DONE);
    } else if (m.type === MSG.PID) {
      return m.payload.readUInt32LE(0);
    } else {
      throw new Error(`protocol: unexpected message ${m.type} from the stub`);
    }
  }
}

// Starts the stub from its sealed memfd with exactly the given fds (0, 1, 2, ... in order; 'ignore' is
// /dev/null for stdio, closed above) and environment. posix_spawn, not child_process: the stub is reaped by
// its caller with waitpid, and loading child_process costs every create, run and exec milliseconds (issue 8).
export function spawnStub(memfd: number, fds: (number | 'ignore')[], env: Record<string, string>): number {
  const pid = libc().posixSpawn(
    `/proc/self/fd/${memfd}`,
    ['ocirun-stub'],
    Object.entries(env).map(([k, v]) => `${k}=${v}`),
    fds.map((fd) => (fd === 'ignore' ? -1 : fd)),
  );
  if (pid <= 0) throw new Error('cannot start the ocirun stub');
  return pid;
}

// The stub exits right after reporting the pid: reap it then. Left to exit with us it would be a zombie of the
// host's pid 1, counted in the container's pids.current until that gets round to it.
export function reapStub(l: Launched): void {
  ignoring('ECHILD', () => libc().waitpid(l.stubPid, 0));
}

// Kills and reaps a stub that has not finished its part (a failed handshake).
export function killStub(pid: number): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  ignoring('ECHILD', () => libc().waitpid(pid, 0));
}
