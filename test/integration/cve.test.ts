// Regression tests for runtime escapes, one per CVE: each builds the hostile rootfs, config or race
// and shows that the host stays untouched (the runtime binary, host paths, host sysctls, host files).
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, runtimeEnv, uniqueId, requireBinaries, sh } from './helpers/env';
import { scanMounts } from './helpers/leftovers';
import { onReadOnlyMount, writeSealed } from './helpers/native';
import { expectFailed, expectNothingLeft, messages, waitUntil, isAlive } from './helpers/observe';
import { startSwapper } from './helpers/racer';
import { consoleListener } from './helpers/pty';
import { ROOTFS_MARKER } from './helpers/rootfs';
import { create, del, explain, ok, run, sleepMs, start, state, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(OCIRUN_BIN, RUNC_BIN));

/** Linux O_PATH (same value on x86_64 and arm64); Node does not export it. */
const O_PATH = 0o10000000;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const openFds: number[] = [];
afterEach(() => {
  for (const fd of openFds.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed.
    }
  }
});

function openPath(p: string): number {
  const fd = fs.openSync(p, O_PATH);
  openFds.push(fd);
  return fd;
}

type ReopenOutcome = { opened: false; code: string } | { opened: true; fd: number };

/** Reopens an O_PATH fd for appending, the step the 2019 exploit used once the runtime had exited. */
function reopenForWrite(pathFd: number): ReopenOutcome {
  try {
    const fd = fs.openSync(`/proc/self/fd/${pathFd}`, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    openFds.push(fd);
    return { opened: true, fd };
  } catch (e) {
    return { opened: false, code: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

describe('CVE-2019-5736: the runtime binary cannot be overwritten from a container', () => {
  test('control: the probe does detect a writable executable', async () => {
    // Without this, a probe that could never succeed would make the real test vacuous.
    const copy = path.join(sb.dir('control'), 'busybox-copy');
    fs.copyFileSync('/bin/busybox', copy);
    fs.chmodSync(copy, 0o755);
    const before = sha256(copy);
    const child = spawn(copy, ['sleep', '30'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid ?? -1;
    while (!cmdline(pid).startsWith(copy) && !cmdline(pid).startsWith('sleep')) sleepMs(5);
    const pathFd = openPath(`/proc/${pid}/exe`);
    expect(reopenForWrite(pathFd)).toEqual({ opened: false, code: 'ETXTBSY' });
    expect(onReadOnlyMount(pathFd)).toBe(false);
    expect(writeSealed(pathFd)).toBe(false);
    child.kill('SIGKILL');
    await exited;
    const r = reopenForWrite(pathFd);
    expect(r.opened).toBe(true);
    if (r.opened) fs.writeSync(r.fd, 'x');
    expect(sha256(copy)).not.toBe(before);
  });

  test('writing /proc/1/exe from inside the container namespaces fails and the binary is unchanged', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-5736-ns'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const before = sha256(OCIRUN_BIN);
    ok(create(rt, id, b.dir));
    const pid = state(rt, id).pid;
    // While created, the container's pid 1 is still the runtime's own init process.
    const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-p', 'sh', '-c', 'echo x >> /proc/1/exe; echo "rc=$?"'], {
      encoding: 'utf8',
      env: runtimeEnv(),
      timeout: 10_000,
    });
    expect(r.stdout, `${r.stdout}\n${r.stderr}`).toMatch(/rc=[1-9]/);
    expect(r.stderr).toMatch(/Text file busy|Read-only file system|Operation not permitted/);
    expect(sha256(OCIRUN_BIN)).toBe(before);
  });

  test('the init executable is sealed: reopening it for write fails with EROFS/EPERM after start', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-5736-fd'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const before = sha256(OCIRUN_BIN);
    ok(create(rt, id, b.dir));
    const pid = state(rt, id).pid;
    const pathFd = openPath(`/proc/${pid}/exe`);

    const whileRunning = reopenForWrite(pathFd);
    expect(whileRunning.opened, 'init exe writable while it runs').toBe(false);

    ok(start(rt, id));
    const deadline = Date.now() + 10_000;
    while (cmdline(pid) !== 'sleep\u000060\u0000') {
      if (Date.now() > deadline) throw new Error(`init never exec'd the container process: ${cmdline(pid)}`);
      sleepMs(10);
    }
    // This container no longer executes that file, so only a read-only mount (EROFS, what
    // runc 1.1.5 gives) or a write-sealed memfd (EPERM) protects it once every other
    // runtime process is gone. ETXTBSY here would only mean some other process (another
    // container's init anywhere on the host) still runs the same inode: transient, so the
    // seal is proven structurally instead of by the error code alone.
    const roMount = onReadOnlyMount(pathFd);
    const sealed = writeSealed(pathFd);
    expect(roMount || sealed, 'init exe is neither on a read-only mount nor a write-sealed memfd').toBe(true);
    const after = reopenForWrite(pathFd);
    if (after.opened) {
      const host = fs.statSync(OCIRUN_BIN);
      const target = fs.fstatSync(after.fd);
      expect(target.dev === host.dev && target.ino === host.ino, 'init ran the host binary itself, writable').toBe(false);
      let code = 'written';
      try {
        fs.writeSync(after.fd, 'x');
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      expect(code, 'private copy of the runtime is not sealed').toBe('EPERM');
    } else {
      expect(['EROFS', 'EPERM', 'ETXTBSY']).toContain(after.code);
    }
    expect(sha256(OCIRUN_BIN)).toBe(before);
  });
});

describe('CVE-2024-21626: no host fd or directory reaches the container', () => {
  test('process.cwd = /proc/self/fd/N (N = 3..10) fails or stays inside the rootfs', () => {
    const rt = sb.runtime('ocirun');
    const outcomes: string[] = [];
    for (let n = 3; n <= 10; n += 1) {
      const id = sb.track(rt, uniqueId(`cve-21626-cwd${n}`));
      // Climbing ".." from a leaked host directory ends at the host root, which has no marker.
      const b = sb.bundle({
        cwd: `/proc/self/fd/${n}`,
        args: [
          'sh',
          '-c',
          `readlink /proc/self/cwd; cd -P ../../../../../../../../../..; if [ -e ./${ROOTFS_MARKER} ]; then echo INSIDE; else echo ESCAPED; ls; fi`,
        ],
      });
      const r = run(rt, ['run', '--bundle', b.dir, id]);
      if (r.code === 0) {
        expect(r.stdout, explain(r)).toContain('INSIDE');
        expect(r.stdout, explain(r)).not.toContain('ESCAPED');
        expect(r.stdout, explain(r)).not.toContain('(unreachable)');
        outcomes.push(`fd ${n}: ran inside`);
      } else {
        expect(r.code, explain(r)).not.toBeNull();
        expect(r.stdout, explain(r)).not.toContain('ESCAPED');
        outcomes.push(`fd ${n}: refused`);
      }
    }
    expect(outcomes).toHaveLength(8);
  });

  test('the container process holds only stdio fds, none pointing at a host path', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-21626-fds'));
    const b = sb.bundle({
      args: [
        'sh',
        '-c',
        // ls reads its own directory fd (3) too. pid 1 (this shell) shows the inherited
        // set exactly, as long as it is looked at while no pipe or $(...) is open.
        'ls -l /proc/1/fd; echo "self: $(ls /proc/self/fd | tr "\\n" " ")"',
      ],
    });
    const r = ok(run(rt, ['run', '--bundle', b.dir, id]));
    expect(r.stdout, explain(r)).toMatch(/^self: 0 1 2 3 $/m);
    const pid1 = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('l'))
      .map((l) => l.replace(/^.* (\d+) -> /, '$1 -> '));
    expect(pid1.map((l) => l.split(' ')[0]), explain(r)).toEqual(['0', '1', '2']);
    for (const line of pid1) {
      // The test hands the runtime pipes for stdio, so anything else leaked in.
      expect(line, explain(r)).toMatch(/^\d -> pipe:\[\d+\]$/);
    }
  });
});

// ---- Path resolution inside the rootfs, procfs writes and /dev (docs/ARCHITECTURE.md, "Resolving
// paths inside the rootfs"). runc 1.1.5 is vulnerable to several of these; where it is, only ocirun
// runs and the safe behaviour is asserted.

/** Every entry under dir, never following links: type, link target or content digest, mode, owner. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = path.posix.join(rel, name);
      const st = fs.lstatSync(p);
      let what: string;
      if (st.isSymbolicLink()) what = `link -> ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) what = 'dir';
      else if (st.isFile()) what = `file ${sha256(p).slice(0, 16)}`;
      else what = `special ${st.rdev}`;
      out.push(`${r} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  const st = fs.lstatSync(dir);
  out.push(`. ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
  walk(dir, '');
  return out;
}

interface MountRow {
  id: string;
  parent: string;
  mp: string;
  opts: string;
  fstype: string;
}

/**
 * The mount table as the container's init sees it (mount points relative to its root). A name that a
 * racer keeps renaming may show either way from one line to the next: the kernel builds each line then.
 */
function containerMounts(pid: number): MountRow[] {
  return fs
    .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-', 6);
      return { id: f[0] ?? '', parent: f[1] ?? '', mp: (f[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), opts: f[5] ?? '', fstype: f[sep + 1] ?? '' };
    });
}

function waitDead(pid: number): void {
  waitUntil(() => !isAlive(pid), `container process ${pid} to exit`);
}

const hostFile = (p: string): string => fs.readFileSync(p, 'utf8');

/** A directory of fake procfs files, as an image could ship in place of /proc. */
function fakeProcTree(dir: string): void {
  for (const sub of ['sys/net/ipv4', 'sys/kernel', 'self/attr', 'self/fd', 'thread-self/fd']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sys/net/ipv4/ip_forward'), 'fake\n');
  fs.writeFileSync(path.join(dir, 'sys/kernel/cap_last_cap'), '5\n');
  fs.writeFileSync(path.join(dir, 'self/attr/exec'), 'fake\n');
  // Where the init would open its exec fifo, were it to trust the container's /proc.
  for (let n = 0; n < 64; n += 1) {
    fs.writeFileSync(path.join(dir, 'self/fd', String(n)), 'fake\n');
    fs.writeFileSync(path.join(dir, 'thread-self/fd', String(n)), 'fake\n');
  }
}

const RACE_CREATES = 6;

/** A file of the default linux.maskedPaths that this kernel has (kcore depends on CONFIG_PROC_KCORE). */
const MASKED_PROC_FILE = ['kcore', 'keys', 'timer_list'].find((f) => fs.existsSync(`/proc/${f}`)) ?? 'kcore';

describe('CVE-2019-19921, CVE-2023-27561: /proc in the rootfs is a symlink', () => {
  // runc 1.1.5 carries the fix (a proc or sysfs destination must be a real directory): both runtimes run.
  const RUNTIMES: RuntimeName[] = ['runc', 'ocirun'];
  const TARGETS = ['/fakeproc', 'fakeproc', '../../../fakeproc'];
  describe.each(RUNTIMES)('%s', (name) => {
    test.each(TARGETS)('/proc -> %s: create refuses and the fake directory gets nothing', (target) => {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`cve-19921-${name}`));
      const b = sb.bundle({ args: ['true'], edit: (s) => void (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }) });
      const fake = path.join(b.rootfs, 'fakeproc');
      fakeProcTree(fake);
      fs.rmdirSync(path.join(b.rootfs, 'proc'));
      fs.symlinkSync(target, path.join(b.rootfs, 'proc'));
      const before = snapshot(fake);
      const r = create(rt, id, b.dir);
      expectFailed(r, 'filesystem "proc" must be mounted on ordinary directory');
      expectNothingLeft(rt, id, b, { requireRootfs: true });
      expect(snapshot(fake)).toEqual(before);
    });
  });

  test('ocirun: /proc swapped with such a symlink while creates run: the real procfs is masked, or create refuses', async () => {
    // The original attack raced the swap through a volume shared with a running container. runc
    // 1.1.5 checks the name and mounts by name afterwards, so it is not compared here.
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({ args: ['true'] });
    const fake = path.join(b.rootfs, 'fakeproc');
    fakeProcTree(fake);
    fs.symlinkSync('/fakeproc', path.join(b.rootfs, 'proc.link'));
    const before = snapshot(fake);
    const swapper = startSwapper(path.join(b.rootfs, 'proc'), path.join(b.rootfs, 'proc.link'));
    const outcomes: string[] = [];
    let swaps = 0;
    try {
      for (let i = 0; i < RACE_CREATES; i += 1) {
        const id = sb.track(rt, uniqueId(`cve-19921-race${i}`));
        const r = create(rt, id, b.dir);
        if (r.code !== 0) {
          expectFailed(r, /\S/);
          expectNothingLeft(rt, id, b, { requireRootfs: true, ignorePids: [swapper.pid] });
          outcomes.push('refused: ' + messages(r.stderr).slice(0, 300));
          continue;
        }
        const mounts = containerMounts(state(rt, id).pid);
        const rootMount = mounts.find((m) => m.mp === '/');
        // The procfs the config asked for, on the directory first named /proc (maybe /proc.link by now).
        const procs = mounts.filter((m) => m.fstype === 'proc' && m.parent === rootMount?.id);
        expect(procs, JSON.stringify(mounts)).toHaveLength(1);
        const kids = mounts.filter((m) => m.parent === procs[0]!.id);
        const kid = (name: string): MountRow | undefined => kids.find((m) => path.posix.basename(m.mp) === name);
        expect(kid(MASKED_PROC_FILE), `${MASKED_PROC_FILE} unmasked: ${JSON.stringify(mounts)}`).toBeDefined();
        expect(kid('sys')?.opts.split(','), `sys writable: ${JSON.stringify(mounts)}`).toContain('ro');
        expect(mounts.filter((m) => m.mp.startsWith('/fakeproc'))).toEqual([]);
        ok(del(rt, id, true));
        outcomes.push(`created, procfs at ${procs[0]!.mp}`);
      }
    } finally {
      swaps = await swapper.stop();
    }
    expect(swaps, 'the swapper never swapped').toBeGreaterThan(0);
    expect(outcomes).toHaveLength(RACE_CREATES);
    expect(snapshot(fake)).toEqual(before);
  });
});

describe('CVE-2021-30465, CVE-2024-45310: mount destinations swapped for symlinks during create', () => {
  // The link leads to a host directory, absolutely or by climbing "..": resolved inside the rootfs it
  // lands in the rootfs's own copy of that path. runc 1.1.5 resolves by name before mounting by
  // name (os.MkdirAll), so only ocirun runs.
  test.each(['absolute', 'relative'])('ocirun, %s link: no mount or file appears in the host directory', async (kind) => {
    const rt = sb.runtime('ocirun');
    const host = sb.dir('host-target');
    fs.writeFileSync(path.join(host, 'marker'), 'host\n');
    const srcFile = path.join(sb.dir('bind-src'), 'file');
    fs.writeFileSync(srcFile, 'bind source\n');
    const tmpfsDests = [0, 1, 2, 3, 4, 5].map((i) => `/race/t${i}`);
    const b = sb.bundle({
      args: ['true'],
      extraMounts: [
        ...tmpfsDests.map((d) => ({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] })),
        // Intermediate directories and a file to bind onto: what CVE-2024-45310 had runc create on the host.
        { destination: '/race/deep/er/file', type: 'bind', source: srcFile, options: ['bind'] },
      ],
    });
    fs.mkdirSync(path.join(b.rootfs, 'race'));
    fs.mkdirSync(path.join(b.rootfs, host), { recursive: true });
    fs.symlinkSync(kind === 'absolute' ? host : `../../../../../../../../..${host}`, path.join(b.rootfs, 'race.link'));
    const before = snapshot(host);
    const swapper = startSwapper(path.join(b.rootfs, 'race'), path.join(b.rootfs, 'race.link'));
    const outcomes: string[] = [];
    let swaps = 0;
    try {
      for (let i = 0; i < RACE_CREATES; i += 1) {
        const id = sb.track(rt, uniqueId(`cve-30465-${kind}${i}`));
        const r = create(rt, id, b.dir);
        expect(snapshot(host), explain(r)).toEqual(before);
        expect(scanMounts(host)).toEqual([]);
        if (r.code !== 0) {
          expectFailed(r, /\S/);
          expectNothingLeft(rt, id, b, { requireRootfs: true, ignorePids: [swapper.pid] });
          outcomes.push('refused: ' + messages(r.stderr).slice(0, 300));
          continue;
        }
        const mounts = containerMounts(state(rt, id).pid);
        // Each mount is in the directory first named /race (/race.link while the swap shows it so), or
        // in the rootfs's copy of the host path: inside the root either way.
        for (const d of [...tmpfsDests, '/race/deep/er/file']) {
          const rest = d.slice('/race'.length);
          const where = [d, `/race.link${rest}`, path.posix.join(host, rest)];
          const at = mounts.filter((m) => where.includes(m.mp));
          expect(at, `${d}: ${JSON.stringify(mounts)}`).toHaveLength(1);
        }
        ok(del(rt, id, true));
        outcomes.push('created');
      }
    } finally {
      swaps = await swapper.stop();
    }
    expect(swaps, 'the swapper never swapped').toBeGreaterThan(0);
    expect(outcomes).toHaveLength(RACE_CREATES);
    expect(snapshot(host)).toEqual(before);
    expect(scanMounts(host)).toEqual([]);
  });
});

describe('CVE-2025-31133: masked paths are masked with the real null device or not at all', () => {
  /** A bundle whose /dev is a bind of an image directory that the test fills. */
  function devBound(fill: (dev: string) => void): Bundle {
    const dev = sb.dir('image-dev');
    fill(dev);
    return sb.bundle({
      args: sh(`stat -c "%F %t:%T" /proc/${MASKED_PROC_FILE}`),
      edit: (s: OciSpec) => {
        s.mounts = (s.mounts ?? []).map((m) => (m.destination === '/dev' ? { destination: '/dev', type: 'bind', source: dev, options: ['rbind', 'nosuid'] } : m));
      },
    });
  }
  const mknod = (p: string, major: number, minor: number): void => {
    const r = spawnSync('mknod', [p, 'c', String(major), String(minor)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mknod ${p}: ${r.stderr}`);
  };
  const CASES: [string, (dev: string) => void, string][] = [
    ['a symlink to the host core_pattern', (d) => fs.symlinkSync('/proc/sys/kernel/core_pattern', path.join(d, 'null')), 'a symlink'],
    ['a relative symlink to a procfs file', (d) => fs.symlinkSync('../proc/sys/kernel/core_pattern', path.join(d, 'null')), 'a symlink'],
    ['a regular file', (d) => fs.writeFileSync(path.join(d, 'null'), ''), 'a regular file'],
    ['another character device (1:5, zero)', (d) => mknod(path.join(d, 'null'), 1, 5), 'char device 1:5'],
  ];

  test.each(CASES)('ocirun: /dev/null is %s: create refuses and the host core_pattern is unchanged', (_what, fill, described) => {
    // runc 1.1.5 binds whatever /dev/null resolves to: a masked /proc/kcore would become the host's
    // writable core_pattern. Not run here.
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-31133'));
    const corePattern = hostFile('/proc/sys/kernel/core_pattern');
    const b = devBound(fill);
    const r = create(rt, id, b.dir);
    expectFailed(r, 'linux.maskedPaths', `/dev/null is ${described}, not the null device (char 1:3)`);
    expectNothingLeft(rt, id, b, { requireRootfs: true });
    expect(hostFile('/proc/sys/kernel/core_pattern')).toBe(corePattern);
  });

  test('control: a real null device in the bound /dev masks files as usual', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-31133-ok'));
    const b = devBound((d) => mknod(path.join(d, 'null'), 1, 3));
    const r = ok(run(rt, ['run', '--bundle', b.dir, id]));
    expect(r.stdout, explain(r)).toBe('character special file 1:3\n');
  });
});

describe('CVE-2025-52881: procfs writes reach the real procfs or fail clearly', () => {
  const MOUNTS_OVER_PROC: [string, (fake: string) => { destination: string; type: string; source: string; options?: string[] }, string][] = [
    ['a tmpfs over /proc/sys', () => ({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs' }), '"/proc/sys" cannot be mounted because it is inside /proc'],
    [
      'a container file bound over /proc/sys/net/ipv4/ip_forward',
      (fake) => ({ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: path.join(fake, 'sys/net/ipv4/ip_forward'), options: ['bind'] }),
      '"/proc/sys/net/ipv4/ip_forward" cannot be mounted because it is inside /proc',
    ],
    ['a directory of fake files bound over /proc', (fake) => ({ destination: '/proc', type: 'bind', source: fake, options: ['rbind'] }), '"/proc" cannot be mounted because it is not of type proc'],
  ];

  test.each(MOUNTS_OVER_PROC)('ocirun: the config mounts %s: create refuses', (_what, mount, message) => {
    // runc 1.1.5 refuses the binds but accepts the tmpfs (later runc refuses all three).
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-52881-mount'));
    const fake = sb.dir('fakeproc');
    fakeProcTree(fake);
    const before = snapshot(fake);
    const forward = hostFile('/proc/sys/net/ipv4/ip_forward');
    const b = sb.bundle({ args: ['true'], extraMounts: [mount(fake)], edit: (s) => void (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }) });
    const r = create(rt, id, b.dir);
    expectFailed(r, message);
    expectNothingLeft(rt, id, b, { requireRootfs: true });
    expect(snapshot(fake)).toEqual(before);
    expect(hostFile('/proc/sys/net/ipv4/ip_forward')).toBe(forward);
  });

  test('ocirun: no /proc mount and fake files in the image /proc: sysctl, cap_last_cap, oom_score_adj and the exec fifo use the real procfs', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-52881-fake'));
    const b = sb.bundle({
      args: sh('echo started'),
      edit: (s) => {
        s.mounts = (s.mounts ?? []).filter((m) => m.destination !== '/proc');
        s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
        // Raising is allowed without CAP_SYS_RESOURCE, whatever the test runs with.
        s.process.oomScoreAdj = 1000;
      },
    });
    fakeProcTree(path.join(b.rootfs, 'proc'));
    const before = snapshot(path.join(b.rootfs, 'proc'));
    const forward = hostFile('/proc/sys/net/ipv4/ip_forward');
    ok(create(rt, id, b.dir));
    const pid = state(rt, id).pid;

    const inNetns = spawnSync('nsenter', ['-t', String(pid), '-n', 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
    expect(inNetns.stdout, inNetns.stderr).toBe('1\n');
    expect(hostFile('/proc/sys/net/ipv4/ip_forward')).toBe(forward);
    expect(hostFile(`/proc/${pid}/oom_score_adj`)).toBe('1000\n');
    // A bounding set computed from the fake cap_last_cap (5) would keep capabilities 6..40.
    const bounding = (b.spec.process.capabilities?.bounding ?? []).map(capNumber);
    const want = bounding.reduce((m, c) => m | (1n << BigInt(c)), 0n);
    const capBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(hostFile(`/proc/${pid}/status`))?.[1];
    expect(capBnd && BigInt(`0x${capBnd}`)).toBe(want);

    ok(start(rt, id));
    waitDead(pid);
    expect(state(rt, id).status).toBe('stopped');
    // The init opened its exec fifo through the verified procfs, not the fake /proc/self/fd/N.
    expect(snapshot(path.join(b.rootfs, 'proc'))).toEqual(before);
  });
});

/** Capability numbers of the few names the default spec uses. */
function capNumber(name: string): number {
  const table: Record<string, number> = { CAP_CHOWN: 0, CAP_KILL: 5, CAP_NET_BIND_SERVICE: 10, CAP_AUDIT_WRITE: 29 };
  const n = table[name];
  if (n === undefined) throw new Error(`capNumber: add ${name}`);
  return n;
}

describe('CVE-2026-41579: an image whose /dev is a symlink out of the rootfs', () => {
  // runc 1.1.5 creates /dev/fd, stdin... and deletes ptmx by joined name, through the link: not run.
  const LINKS: [string, (host: string) => string][] = [
    ['absolute', (h) => h],
    ['relative', (h) => `../../../../../../../..${h}`],
  ];
  const LAYOUTS: [string, (s: OciSpec) => void][] = [
    ['the default /dev tmpfs', () => undefined],
    ['no /dev mounts (devices made in the image /dev)', (s) => void (s.mounts = (s.mounts ?? []).filter((m) => !m.destination.startsWith('/dev')))],
  ];
  const CASES = LINKS.flatMap(([l, link]) => LAYOUTS.map(([d, edit]) => [l, d, link, edit] as const));

  test.each(CASES)('ocirun, %s link, %s: create, start, delete and delete --force leave the host directory untouched', (_l, layout, link, edit) => {
    const rt = sb.runtime('ocirun');
    const host = sb.dir('host-dev');
    for (const name of ['ptmx', 'null', 'fd', 'stdin', 'stdout', 'stderr', 'core', 'tty', 'marker']) fs.writeFileSync(path.join(host, name), `host ${name}\n`);
    fs.mkdirSync(path.join(host, 'pts'));
    fs.mkdirSync(path.join(host, 'shm'));
    const before = snapshot(host);
    const b = sb.bundle({ args: ['sleep', '30'], edit });
    fs.rmSync(path.join(b.rootfs, 'dev'), { recursive: true });
    fs.symlinkSync(link(host), path.join(b.rootfs, 'dev'));
    // The rootfs's own copy of the host path: where the link leads when resolved inside the root.
    fs.mkdirSync(path.join(b.rootfs, host), { recursive: true });
    const untouched = (what: string): void => {
      expect(snapshot(host), what).toEqual(before);
      expect(scanMounts(host), what).toEqual([]);
    };

    const a = sb.track(rt, uniqueId('cve-41579-a'));
    ok(create(rt, a, b.dir));
    untouched('after create');
    const pidA = state(rt, a).pid;
    ok(start(rt, a));
    untouched('after start');
    process.kill(pidA, 'SIGKILL');
    waitDead(pidA);
    ok(del(rt, a));
    untouched('after delete');

    const c = sb.track(rt, uniqueId('cve-41579-c'));
    ok(create(rt, c, b.dir));
    ok(del(rt, c, true));
    untouched('after delete --force of a created container');

    const r = sb.track(rt, uniqueId('cve-41579-r'));
    ok(create(rt, r, b.dir));
    ok(start(rt, r));
    ok(del(rt, r, true));
    untouched('after delete --force of a running container');

    if (layout.startsWith('no /dev')) {
      // The devices went where the link leads inside the root: the code under test did run.
      const made = fs.lstatSync(path.join(b.rootfs, host, 'null'));
      expect(made.isCharacterDevice()).toBe(true);
      expect(fs.readlinkSync(path.join(b.rootfs, host, 'ptmx'))).toBe('pts/ptmx');
    }
  });
});

describe('CVE-2025-52565: /dev/console of a terminal', () => {
  // The image's own /dev (no tmpfs over it) holds /dev/console; a symlink there, or one swapped in while
  // create runs, must not carry the pty bind onto another file (runc 1.1.5 binds by name after the pivot,
  // so it is vulnerable and not compared). Each create sends its master to a listener, as containerd's.
  const consoleBundle = (): Bundle => {
    const b = sb.bundle({
      args: ['true'],
      edit: (s) => {
        s.process.terminal = true;
        s.mounts = (s.mounts ?? []).filter((m) => m.destination !== '/dev');
      },
    });
    fs.mkdirSync(path.join(b.rootfs, 'dev', 'pts'), { recursive: true });
    fs.writeFileSync(path.join(b.rootfs, 'etc', 'target'), 'target\n');
    return b;
  };
  const consoleMounts = (pid: number) =>
    containerMounts(pid).filter((m) => ['/dev/console', '/dev/console.link', '/etc/target'].includes(m.mp));

  test('ocirun: /dev/console is a symlink in the image: create refuses, the link target gets nothing', async () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-52565-link'));
    const b = consoleBundle();
    fs.symlinkSync('/etc/target', path.join(b.rootfs, 'dev', 'console'));
    const sock = path.join(sb.dir('sock'), 'console.sock');
    const listener = consoleListener(sock, 1);
    try {
      const r = create(rt, id, b.dir, ['--console-socket', sock]);
      expectFailed(r, '/dev/console');
      expectNothingLeft(rt, id, b, { requireRootfs: true, ignorePids: [listener.pid] });
    } finally {
      await listener.kill();
    }
    expect(fs.readFileSync(path.join(b.rootfs, 'etc', 'target'), 'utf8')).toBe('target\n');
    expect(fs.readlinkSync(path.join(b.rootfs, 'dev', 'console'))).toBe('/etc/target');
  });

  test('ocirun: /dev/console swapped with a symlink while creates run: the pty lands on /dev/console or create refuses', async () => {
    const rt = sb.runtime('ocirun');
    const b = consoleBundle();
    fs.writeFileSync(path.join(b.rootfs, 'dev', 'console'), '');
    fs.symlinkSync('/etc/target', path.join(b.rootfs, 'dev', 'console.link'));
    const sock = path.join(sb.dir('sock'), 'console.sock');
    const listener = consoleListener(sock, RACE_CREATES);
    const swapper = startSwapper(path.join(b.rootfs, 'dev', 'console'), path.join(b.rootfs, 'dev', 'console.link'));
    const outcomes: string[] = [];
    let swaps = 0;
    try {
      for (let i = 0; i < RACE_CREATES; i += 1) {
        const id = sb.track(rt, uniqueId(`cve-52565-race${i}`));
        const r = create(rt, id, b.dir, ['--console-socket', sock]);
        if (r.code !== 0) {
          expectFailed(r, /\S/);
          expectNothingLeft(rt, id, b, { requireRootfs: true, ignorePids: [swapper.pid, listener.pid] });
          outcomes.push('refused: ' + messages(r.stderr).slice(0, 300));
          continue;
        }
        const mounts = consoleMounts(state(rt, id).pid);
        // Exactly one pty bind (devpts), on the file that was checked (the racer may have renamed it to
        // console.link since), and nothing on the link's target.
        expect(mounts.map((m) => m.fstype), JSON.stringify(mounts)).toEqual(['devpts']);
        expect(['/dev/console', '/dev/console.link']).toContain(mounts[0]!.mp);
        ok(del(rt, id, true));
        outcomes.push('created');
      }
    } finally {
      swaps = await swapper.stop();
      await listener.kill();
    }
    expect(swaps, 'the swapper never swapped').toBeGreaterThan(0);
    expect(outcomes).toHaveLength(RACE_CREATES);
    expect(fs.readFileSync(path.join(b.rootfs, 'etc', 'target'), 'utf8')).toBe('target\n');
  });
});
