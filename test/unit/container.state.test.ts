// Tests for src/container/state.ts: procStartTime against real short-lived processes (odd comm names,
// zombies, dead pids), status detection, the key order of publicState, and the Store's file handling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIFO, procStartTime, publicState, status, Store, type StoredState } from '../../src/container/state';
import type { Spec } from '../../src/oci';

const SLEEP = ['/usr/bin/sleep', '/bin/sleep'].find((p) => fs.existsSync(p))!;

// A pid that certainly existed and has been reaped: spawnSync waits for its child.
const deadPid = () => spawnSync('true').pid!;

const statState = (pid: number) => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
};

describe('procStartTime', () => {
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-stat-'));
  });

  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await once(c, 'exit');
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const start = async (file: string, args: string[]) => {
    const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    await once(c, 'spawn');
    return c;
  };

  it('returns the start time of a live process as a stable digit string', async () => {
    const c = await start(SLEEP, ['5']);
    const t = procStartTime(c.pid!);
    expect(t).toMatch(/^\d+$/);
    expect(procStartTime(c.pid!)).toBe(t);
    // Started after this test process, in clock ticks since boot.
    expect(Number(t)).toBeGreaterThanOrEqual(Number(procStartTime(process.pid)));
  });

  it('parses past a comm that contains spaces, parentheses and a fake state field', async () => {
    // comm is the basename of the path given to execve, so a symlink with this name sets it.
    const link = path.join(tmp, 'sl) Z 1 (x');
    fs.symlinkSync(SLEEP, link);
    const c = await start(link, ['5']);
    const stat = fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8');
    expect(stat).toContain('(sl) Z 1 (x)');
    // Field 22 counted from the real end of comm: fields 3.. follow the last ')'.
    const expected = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    expect(expected).toMatch(/^\d+$/);
    expect(procStartTime(c.pid!)).toBe(expected);
  });

  it('is undefined for a process that has exited and been reaped', async () => {
    const c = await start(SLEEP, ['5']);
    const pid = c.pid!;
    expect(procStartTime(pid)).toMatch(/^\d+$/);
    c.kill('SIGKILL');
    await once(c, 'exit');
    expect(procStartTime(pid)).toBeUndefined();
  });

  it('is undefined for a pid that does not exist', () => {
    expect(procStartTime(deadPid())).toBeUndefined();
    // Above the kernel's PID_MAX_LIMIT (4194304), so never a live pid.
    expect(procStartTime(4194305)).toBeUndefined();
  });

  it('is undefined for a zombie, which is as good as dead', async () => {
    // sh forks "sleep 0" and then becomes "sleep 5", which never reaps it: a zombie we can point at.
    const c = await start('/bin/sh', ['-c', `${SLEEP} 0 & echo $!; exec ${SLEEP} 5`]);
    const [line] = (await once(c.stdout!, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    for (let i = 0; i < 200 && statState(zombie) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(statState(zombie)).toBe('Z');
    expect(procStartTime(zombie)).toBeUndefined();
  });
});

describe('status and publicState', () => {
  let root: string;
  let store: Store;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-state-'));
    store = new Store(root);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const stored = (over: Partial<StoredState> = {}): StoredState => ({
    id: 'c1',
    pid: deadPid(),
    pidStartTime: '12345',
    bundle: '/bundles/c1',
    rootfs: '/bundles/c1/rootfs',
    created: '2024-01-02T03:04:05.123456789Z',
    owner: '',
    cgroupPaths: {},
    config: { ociVersion: '1.2.0' } as Spec,
    ...over,
  });

  // This very process, with its real start time: certainly alive.
  const alive = (over: Partial<StoredState> = {}) => stored({ pid: process.pid, pidStartTime: procStartTime(process.pid)!, ...over });

  it('is stopped when the pid is dead', () => {
    expect(status(store, stored())).toBe('stopped');
  });

  it('is stopped for pid 0 (never started)', () => {
    expect(status(store, stored({ pid: 0 }))).toBe('stopped');
  });

  it('is stopped when the pid is alive but was recycled (start time differs)', () => {
    expect(status(store, stored({ pid: process.pid, pidStartTime: '1' }))).toBe('stopped');
  });

  it('is created while the exec fifo exists, running once it is gone', () => {
    fs.mkdirSync(store.dir('c1'));
    fs.writeFileSync(path.join(store.dir('c1'), FIFO), '');
    expect(status(store, alive())).toBe('created');
    fs.rmSync(path.join(store.dir('c1'), FIFO));
    expect(status(store, alive())).toBe('running');
  });

  it('is paused when the freezer says FROZEN', () => {
    const fz = path.join(root, 'freezer');
    fs.mkdirSync(fz);
    fs.writeFileSync(path.join(fz, 'freezer.state'), 'FROZEN\n');
    expect(status(store, alive({ cgroupPaths: { freezer: fz } }))).toBe('paused');
    fs.writeFileSync(path.join(fz, 'freezer.state'), 'THAWED\n');
    expect(status(store, alive({ cgroupPaths: { freezer: fz } }))).toBe('running');
  });

  it('prints a stopped container like runc: pid 0, keys in runc\'s order, no empty annotations', () => {
    const out = publicState(store, stored({ annotations: {} }));
    expect(Object.keys(out)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);
    expect(out).toEqual({
      ociVersion: '1.3.0',
      id: 'c1',
      pid: 0,
      status: 'stopped',
      bundle: '/bundles/c1',
      rootfs: '/bundles/c1/rootfs',
      created: '2024-01-02T03:04:05.123456789Z',
      owner: '',
    });
    expect(JSON.stringify(out)).toBe(
      '{"ociVersion":"1.3.0","id":"c1","pid":0,"status":"stopped","bundle":"/bundles/c1","rootfs":"/bundles/c1/rootfs","created":"2024-01-02T03:04:05.123456789Z","owner":""}',
    );
  });

  it('omits absent annotations and puts non-empty ones before owner, keys sorted, as runc prints them', () => {
    expect(Object.keys(publicState(store, stored()))).not.toContain('annotations');
    const out = publicState(store, stored({ annotations: { 'org.example/k': 'v', 'a.b': '', 'Z': 'z' } }));
    expect(Object.keys(out)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    expect(out.annotations).toEqual({ 'org.example/k': 'v', 'a.b': '', 'Z': 'z' });
    expect(Object.keys(out.annotations ?? {})).toEqual(['Z', 'a.b', 'org.example/k']);
  });

  it('shows the real pid of a live container', () => {
    const out = publicState(store, alive());
    expect(out.pid).toBe(process.pid);
    expect(out.status).toBe('running');
  });
});

describe('Store', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-store-'));
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const minimal = (id: string) => ({ id, pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/r', created: 'now', owner: '', cgroupPaths: {}, config: {} as Spec });

  it('saves atomically (no .tmp left) and loads back the same state', () => {
    const s = new Store(root);
    fs.mkdirSync(s.dir('a'));
    s.save(minimal('a'));
    expect(fs.readdirSync(s.dir('a'))).toEqual(['state.json']);
    expect(fs.statSync(path.join(s.dir('a'), 'state.json')).mode & 0o777).toBe(0o600);
    expect(s.load('a')).toEqual(minimal('a'));
    expect(s.exists('a')).toBe(true);
  });

  it('reports a missing container as "container does not exist"', () => {
    const s = new Store(root);
    expect(s.exists('nope')).toBe(false);
    expect(() => s.load('nope')).toThrow(/^container does not exist$/);
  });

  it("refuses another runtime's state.json in the same root (runc's libcontainer state) instead of misreading it", () => {
    const s = new Store(root);
    fs.mkdirSync(s.dir('r1'));
    // The keys runc 1.1 writes (abridged): none of ours but `created`.
    const runcState = { id: 'r1', init_process_pid: 4242, init_process_start: 777, created: '2024-01-02T03:04:05Z', config: { rootfs: '/b/rootfs' }, cgroup_paths: { memory: '/sys/fs/cgroup/memory/r1' }, namespace_paths: {} };
    fs.writeFileSync(path.join(s.dir('r1'), 'state.json'), JSON.stringify(runcState));
    expect(() => s.load('r1')).toThrow(`container r1 is not ocirun's: ${path.join(s.dir('r1'), 'state.json')} holds another runtime's state`);
    // Not "does not exist": delete --force treats that as a leftover directory to remove.
    expect(() => s.load('r1')).not.toThrow(/does not exist/);
  });

  it('refuses a state.json that is not JSON, or one that names another container', () => {
    const s = new Store(root);
    fs.mkdirSync(s.dir('bad'));
    fs.writeFileSync(path.join(s.dir('bad'), 'state.json'), '{"id": "bad", "pid": ');
    expect(() => s.load('bad')).toThrow(/^container bad is not ocirun's/);
    fs.mkdirSync(s.dir('moved'));
    fs.writeFileSync(path.join(s.dir('moved'), 'state.json'), JSON.stringify(minimal('other')));
    expect(() => s.load('moved')).toThrow(/^container moved is not ocirun's/);
  });

  it('lists only directories holding a state.json, sorted', () => {
    const s = new Store(root);
    for (const id of ['zeta', 'alpha', 'mid']) {
      fs.mkdirSync(s.dir(id));
      s.save(minimal(id));
    }
    fs.mkdirSync(s.dir('half-created'));
    expect(s.ids()).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('lists nothing when the root does not exist yet', () => {
    expect(new Store(path.join(root, 'missing')).ids()).toEqual([]);
  });
});
