// The cgroup v2 driver on the real kernel: this host's empty cgroup2 (/sys/fs/cgroup/unified, no
// controllers) still has cgroup.freeze, cgroup.events, cgroup.kill and BPF_CGROUP_DEVICE on every
// non-root cgroup, so freezing, killing, nested removal and the eBPF device filter are tested for real.
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { V2Driver } from '../../src/cgroups/v2';
import { defaultDeviceRules } from '../../src/cgroups/devices';
import { buildDeviceProgram } from '../../src/cgroups/v2/devicefilter';
import { attachedDeviceFilters, installDeviceFilter } from '../../src/cgroups/v2/ebpf';
import { removeTrees } from '../../src/cgroups/tree';

const UNIFIED = '/sys/fs/cgroup/unified';
const available = fs.existsSync(path.join(UNIFIED, 'cgroup.controllers')) && process.getuid?.() === 0;

let base: string;
let rootSubtree: string;
let children: cp.ChildProcess[];
let scratch: string;

const readEvents = (dir: string) => fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8');

// A process that waits for a line on stdin before running `script`, so it can be moved into the
// cgroup first; resolves with its output and how it ended.
function spawnWaiting(script: string) {
  const child = cp.spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ out, code, signal })),
  );
  return { child, done, go: () => child.stdin!.write('go\n') };
}

describe.skipIf(!available)('cgroup v2 driver on the unified hierarchy', () => {
  beforeEach(() => {
    base = path.join(UNIFIED, `ocirun-v2test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    rootSubtree = fs.readFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), 'utf8').trim();
    children = [];
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-v2test-'));
  });

  afterEach(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        // Thaw first: a frozen process does not die until thawed.
        try {
          fs.writeFileSync(path.join(base, 'cgroup.freeze'), '0');
        } catch {
          /* not ours any more */
        }
        c.kill('SIGKILL');
        await new Promise((r) => c.once('close', r));
      }
    }
    expect(removeTrees([base])).toEqual([]);
    // create() enables the root's controllers in the root's subtree_control, as runc does; undo that
    // here so the host is left as it was.
    const now = fs.readFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter(Boolean);
    const before = new Set(rootSubtree.split(/\s+/).filter(Boolean));
    for (const c of now) if (!before.has(c)) fs.writeFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), `-${c}`);
    fs.rmSync(scratch, { recursive: true, force: true });
    expect(fs.existsSync(base)).toBe(false);
  });

  it('creates nested directories and removes them, deepest first', () => {
    const leaf = path.join(base, 'pod', 'ctr');
    const d = new V2Driver(leaf);
    expect(d.create()).toEqual([base, path.join(base, 'pod'), leaf]);
    fs.mkdirSync(path.join(leaf, 'nested', 'deeper'), { recursive: true });
    new V2Driver(base).destroy();
    expect(fs.existsSync(base)).toBe(false);
    // Removing what is already gone is fine.
    new V2Driver(base).destroy();
  });

  it('freezes and thaws, with cgroup.events agreeing when freeze returns', async () => {
    const d = new V2Driver(base);
    d.create();
    const p = spawnWaiting('while :; do :; done');
    d.join(p.child.pid!);
    p.go();
    expect(d.pids()).toContain(p.child.pid);
    expect(d.isPaused()).toBe(false);
    d.freeze(true);
    expect(readEvents(base)).toMatch(/^frozen 1$/m);
    expect(d.isPaused()).toBe(true);
    d.freeze(false);
    expect(readEvents(base)).toMatch(/^frozen 0$/m);
    expect(d.isPaused()).toBe(false);
    d.kill(9);
    expect((await p.done).signal).toBe('SIGKILL');
  });

  it('kill(SIGKILL) uses cgroup.kill and reaches nested cgroups, frozen or not', async () => {
    const d = new V2Driver(base);
    d.create();
    const a = spawnWaiting('sleep 100');
    const b = spawnWaiting('sleep 100');
    d.join(a.child.pid!);
    fs.mkdirSync(path.join(base, 'inner'));
    new V2Driver(path.join(base, 'inner')).join(b.child.pid!);
    expect(d.pids().sort()).toEqual([a.child.pid, b.child.pid].sort());
    d.freeze(true);
    d.kill(9);
    d.freeze(false);
    expect((await a.done).signal).toBe('SIGKILL');
    expect((await b.done).signal).toBe('SIGKILL');
    d.destroy();
    expect(fs.existsSync(base)).toBe(false);
  });

  it('kill with another signal freezes, signals every process and thaws', async () => {
    const d = new V2Driver(base);
    d.create();
    const a = spawnWaiting('sleep 100');
    d.join(a.child.pid!);
    a.go();
    d.kill(15);
    expect((await a.done).signal).toBe('SIGTERM');
    expect(d.isPaused()).toBe(false);
  });

  it('the device filter denies what the rules do not allow, and allows the rest', async () => {
    // Device nodes of our own: the filter goes by type and major:minor, not by path.
    cp.execFileSync('mknod', [path.join(scratch, 'kmsg'), 'c', '1', '11']);
    cp.execFileSync('mknod', [path.join(scratch, 'loop'), 'b', '7', '0']);
    const d = new V2Driver(base);
    d.create();
    // Deny everything; runc's default allow-list (null, zero, full, random, urandom, tty, ptmx, pts, tun, mknod) follows.
    d.apply({ devices: [{ allow: false, access: 'rwm' }, ...defaultDeviceRules()] });
    expect(attachedDeviceFilters(base)).toHaveLength(1);
    const p = spawnWaiting(
      `head -c1 /dev/zero >/dev/null && echo zero=ok; echo x >/dev/null && echo null=ok; ` +
        `(: <${scratch}/kmsg) || echo kmsg=denied; (: <${scratch}/loop) || echo loop=denied; ` +
        `mknod ${scratch}/made c 1 11 && echo mknod=ok`,
    );
    d.join(p.child.pid!);
    p.go();
    const r = await p.done;
    expect(r.out).toContain('zero=ok');
    expect(r.out).toContain('null=ok');
    // stdout and stderr interleave in any order.
    expect(r.out).toContain(`cannot open ${scratch}/kmsg: Operation not permitted`);
    expect(r.out).toContain('kmsg=denied');
    expect(r.out).toContain(`cannot open ${scratch}/loop: Operation not permitted`);
    expect(r.out).toContain('loop=denied');
    expect(r.out).toContain('mknod=ok');
    // The same device is open to a process outside the cgroup.
    expect(cp.execFileSync('sh', ['-c', `: <${scratch}/kmsg && echo open=ok`]).toString()).toBe('open=ok\n');
  });

  it('an update replaces the program instead of adding one', async () => {
    cp.execFileSync('mknod', [path.join(scratch, 'kmsg'), 'c', '1', '11']);
    const d = new V2Driver(base);
    d.create();
    d.apply({ devices: [{ allow: false, access: 'rwm' }, ...defaultDeviceRules()] });
    const first = attachedDeviceFilters(base);
    d.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }, ...defaultDeviceRules()] });
    const second = attachedDeviceFilters(base);
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    const p = spawnWaiting(`(: <${scratch}/kmsg) && echo kmsg=ok`);
    d.join(p.child.pid!);
    p.go();
    expect((await p.done).out).toContain('kmsg=ok');
  });

  it('a program denying read of c 1:3 makes /dev/null unreadable but still writable', async () => {
    const d = new V2Driver(base);
    d.create();
    installDeviceFilter(
      base,
      buildDeviceProgram([
        { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
        { type: 'c', major: 1, minor: 3, access: 'r', allow: false },
      ]).bytes,
    );
    const p = spawnWaiting('head -c1 /dev/null || echo read=denied; echo x >/dev/null && echo write=ok');
    d.join(p.child.pid!);
    p.go();
    const r = await p.done;
    expect(r.out).toContain(`'/dev/null' for reading: Operation not permitted`);
    expect(r.out).toContain('read=denied');
    expect(r.out).toContain('write=ok');
  });

  it('stats count the processes without the pids controller and read cpu.stat', async () => {
    const d = new V2Driver(base);
    d.create();
    const a = spawnWaiting('sleep 100');
    d.join(a.child.pid!);
    const st = d.stats();
    expect(st.pids).toEqual({ current: 1, limit: 0 });
    expect(typeof st.cpu.usage.total).toBe('number');
    d.kill(9);
    await a.done;
  });
});
