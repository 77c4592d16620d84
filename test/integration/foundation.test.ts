// Foundations of the single executable: it runs without PATH or a particular cwd, loads its
// native addon on noexec/read-only temp dirs, and honours --no-pivot, --preserve-fds and a read-only rootfs like runc.
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from './helpers/bundle';
import { OCIRUN_BIN, OCIRUN_IS_RUNC, RUNC_BIN, runtimeEnv, uniqueId, requireBinaries, sh } from './helpers/env';
import { forceClean, isEmpty, scanCgroups, scanMounts, scanProcesses, summarize } from './helpers/leftovers';
import { normaliseMountinfo } from './helpers/normalise';
import { ROOTFS_MARKER } from './helpers/rootfs';
import { del, explain, makeRuntime, run, type RunResult, type Runtime, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

/** `env -i` spelled out, so the runtime really starts with no environment at all (no PATH, no HOME). */
function runEnvI(rt: Runtime, args: string[], opts: { cwd: string; noRoot?: boolean }): RunResult {
  const argv = [...(opts.noRoot === true ? [] : ['--root', rt.root]), ...args];
  const r = spawnSync('/usr/bin/env', ['-i', rt.bin, ...argv], {
    cwd: opts.cwd,
    encoding: 'utf8',
    input: '',
    timeout: 10_000,
    killSignal: 'SIGKILL',
  });
  return {
    argv: ['env', '-i', rt.bin, ...argv],
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
}

describe('the single executable', () => {
  test('env -i <abs path> --version works from cwd=/', () => {
    // A SEA binary that located its assets via PATH or cwd, or printed Node's warnings, shows here.
    const r = runEnvI(makeRuntime('ocirun', '/nonexistent'), ['--version'], { cwd: '/', noRoot: true });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr, explain(r)).toBe('');
    expect(r.stdout, explain(r)).toMatch(OCIRUN_IS_RUNC ? /^runc version \d/ : /^ocirun version \d+\.\d+\.\d+\n/);
    expect(r.stdout, explain(r)).toMatch(/^spec: \d+\.\d+\.\d+/m);
  });

  test('a full run under env -i from cwd=/ behaves like runc', () => {
    // The container's environment comes from config.json alone; the runtime's own (empty) one must not matter.
    const script = `echo "PATH=$PATH"; echo "HOME=$HOME"; pwd; cat /${ROOTFS_MARKER}; exit 3`;
    const out = {} as Record<RuntimeName, RunResult>;
    for (const name of RUNTIMES) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`fnd-envi-${name}`));
      const b = sb.bundle({ args: sh(script) }, `bundle-${name}`);
      out[name] = runEnvI(rt, ['run', '--bundle', b.dir, id], { cwd: '/' });
      expect(out[name].code, explain(out[name])).toBe(3);
      expect(out[name].stdout, explain(out[name])).toContain('PATH=/usr/local/sbin:');
      expect(out[name].stdout, explain(out[name])).toContain('inside\n');
    }
    expect(out.ocirun.stdout).toBe(out.runc.stdout);
  });
});

describe('native addon with noexec or read-only temp dirs', () => {
  // The outside-/tmp area: /tmp is overmounted inside the namespace, so a bundle or
  // --root below it would vanish. Prefixed like scratchBase() so parallel suites never collide.
  function outsideTmp(): string {
    return fs.mkdtempSync(path.join('/var/tmp', `ocirun-it-${process.pid}-`));
  }

  function listing(dir: string): Set<string> {
    try {
      return new Set(fs.readdirSync(dir));
    } catch {
      return new Set();
    }
  }

  // Host dirs the loader may write to and the runtime can see. The host's /tmp is hidden by
  // the private tmpfs (checked from inside instead), and /var/tmp, the loader's last resort,
  // is never reached while the binary's dir is usable, but is shared with too many other
  // writers to compare. A concurrent rebuild's dist/ocirun.tmp belongs to someone else.
  const WATCHED: { dir: string; ignore?: RegExp }[] = [
    { dir: '/dev/shm' },
    { dir: '/run' },
    { dir: path.dirname(OCIRUN_BIN), ignore: /^ocirun(\.tmp)?$/ },
  ];

  test.each([
    { name: '/tmp noexec, /dev/shm noexec+ro', also: '' },
    // With /run gone too, only the binary's own directory (or /var/tmp) is left to the loader.
    { name: '/tmp, /run noexec, /dev/shm noexec+ro', also: 'mount -t tmpfs -o noexec tmpfs /run || exit 90;' },
  ])('$name: both runtimes run the container and leave no file behind', ({ also }) => {
    const base = outsideTmp();
    const ids: { rt: Runtime; id: string }[] = [];
    try {
      const before = WATCHED.map((w) => listing(w.dir));
      for (const name of RUNTIMES) {
        let rt = makeRuntime(name, path.join(base, `root-${name}`));
        // A checkout under /tmp (CI clones anywhere) would vanish under the private /tmp too.
        if (rt.bin.startsWith('/tmp/')) {
          const copy = path.join(base, path.basename(rt.bin));
          fs.copyFileSync(rt.bin, copy);
          fs.chmodSync(copy, 0o755);
          rt = { ...rt, bin: copy };
        }
        const id = uniqueId(`fnd-noexec-${name}`);
        ids.push({ rt, id });
        const b = makeBundle(path.join(base, `bundle-${name}`), { args: sh('echo container-ran') });
        // The private mounts are printed first, so a mount that silently failed cannot make the test vacuous;
        // after the runtime exits, the private /tmp, /dev/shm (and /run) must still be empty.
        const script = [
          'mount -t tmpfs -o noexec tmpfs /tmp || exit 90;',
          'mount -t tmpfs -o noexec,ro tmpfs /dev/shm || exit 90;',
          also,
          `grep -E ' /(tmp|dev/shm|run) ' /proc/self/mountinfo | cut -d' ' -f5,6;`,
          `"$@"; rc=$?;`,
          `echo "left:[$(ls -A /tmp /dev/shm${also === '' ? '' : ' /run'} | grep -v -e "^/" -e "^$" | tr "\\n" " ")]"; exit $rc`,
        ].join(' ');
        const r = spawnSync(
          'unshare',
          ['-m', 'sh', '-c', script, 'sh', rt.bin, '--root', rt.root, 'run', '--bundle', b.dir, id],
          { encoding: 'utf8', input: '', env: runtimeEnv(), timeout: 15_000, killSignal: 'SIGKILL' },
        );
        const what = `${name}\nexit=${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
        expect(r.status, what).toBe(0);
        expect(r.stdout, what).toMatch(/^\/tmp rw,[^ ]*noexec/m);
        expect(r.stdout, what).toMatch(/^\/dev\/shm ro,[^ ]*noexec/m);
        if (also !== '') expect(r.stdout, what).toMatch(/^\/run rw,[^ ]*noexec/m);
        expect(r.stdout, what).toContain('container-ran\n');
        expect(r.stdout, what).toContain('left:[]');
        expect(fs.existsSync(path.join(rt.root, id)), `${name} kept its state dir`).toBe(false);
      }
      const after = WATCHED.map((w) => listing(w.dir));
      const added = WATCHED.flatMap((w, i) =>
        [...after[i]!].filter((e) => !before[i]!.has(e) && !(w.ignore?.test(e) ?? false)).map((e) => path.join(w.dir, e)),
      );
      expect(added).toEqual([]);
    } finally {
      for (const { rt, id } of ids) del(rt, id, true);
      const left = {
        processes: scanProcesses(base, []),
        mounts: scanMounts(base),
        cgroups: scanCgroups(ids.map((i) => i.id)),
        stateDirs: [],
      };
      if (!isEmpty(left)) forceClean(left);
      fs.rmSync(base, { recursive: true, force: true });
      expect(isEmpty(left), summarize(left)).toBe(true);
    }
  });
});

describe('--no-pivot', () => {
  test('the container sees the same mounts and root as with pivot_root, and as runc --no-pivot', () => {
    const script = `cat /proc/self/mountinfo; echo ---; cat /${ROOTFS_MARKER}; ls /`;
    const variants: { name: RuntimeName; flags: string[] }[] = [
      { name: 'runc', flags: ['--no-pivot'] },
      { name: 'ocirun', flags: ['--no-pivot'] },
      { name: 'ocirun', flags: [] },
    ];
    const outs: { mounts: string[]; rest: string }[] = [];
    for (const v of variants) {
      const rt = sb.runtime(v.name);
      // One id for all three, so cgroup mount roots (which embed the id) match.
      const id = sb.track(rt, uniqueId('fnd-nopivot'));
      const b = sb.bundle({ args: sh(script) }, `bundle-${v.name}`);
      const r = run(rt, ['run', ...v.flags, '--bundle', b.dir, id]);
      expect(r.code, explain(r)).toBe(0);
      const [mi = '', rest = ''] = r.stdout.split('---\n');
      expect(rest, explain(r)).toContain('inside\n');
      const mounts = normaliseMountinfo(mi);
      expect(mounts.some((l) => l.startsWith('/ ro,')), explain(r)).toBe(true);
      expect(mounts.some((l) => l.startsWith('/proc ') && l.includes(' proc proc ')), explain(r)).toBe(true);
      outs.push({ mounts, rest });
    }
    const [runcNoPivot, ociNoPivot, ociPivot] = outs;
    expect(ociNoPivot!.mounts).toEqual(runcNoPivot!.mounts);
    expect(ociNoPivot!.mounts).toEqual(ociPivot!.mounts);
    expect(ociNoPivot!.rest).toBe(runcNoPivot!.rest);
  });
});

describe('--preserve-fds', () => {
  // sh's own fd table is read through $$ so the probe is not fooled by ls's directory fd.
  const PROBE = sh(
    'if [ -e /proc/$$/fd/3 ]; then echo fd3=open; else echo fd3=closed; fi; ' +
      '{ echo via-fd3 >&3; } 2>/dev/null; echo write=$?',
  );

  function runWithFd3(rt: Runtime, id: string, bundleDir: string, extra: string[], file: string): RunResult {
    const fd = fs.openSync(file, 'w');
    try {
      const argv = ['--root', rt.root, 'run', ...extra, '--bundle', bundleDir, id];
      const r = spawnSync(rt.bin, argv, {
        encoding: 'utf8',
        env: runtimeEnv(),
        input: '',
        stdio: ['pipe', 'pipe', 'pipe', fd],
        timeout: 10_000,
        killSignal: 'SIGKILL',
      });
      return { argv: [rt.bin, ...argv], code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: false };
    } finally {
      fs.closeSync(fd);
    }
  }

  test.each(RUNTIMES)('%s: --preserve-fds 1 passes fd 3, without it fd 3 is closed', (name) => {
    const rt = sb.runtime(name);
    const dir = sb.dir('fds');
    const b = sb.bundle({ args: PROBE });

    const withFlag = path.join(dir, 'with');
    const id1 = sb.track(rt, uniqueId(`fnd-fds1-${name}`));
    const r1 = runWithFd3(rt, id1, b.dir, ['--preserve-fds', '1'], withFlag);
    expect(r1.code, explain(r1)).toBe(0);
    expect(r1.stdout, explain(r1)).toBe('fd3=open\nwrite=0\n');
    expect(fs.readFileSync(withFlag, 'utf8')).toBe('via-fd3\n');

    const without = path.join(dir, 'without');
    const id2 = sb.track(rt, uniqueId(`fnd-fds0-${name}`));
    const r2 = runWithFd3(rt, id2, b.dir, [], without);
    expect(r2.code, explain(r2)).toBe(0);
    expect(r2.stdout, explain(r2)).toBe('fd3=closed\nwrite=1\n');
    expect(fs.readFileSync(without, 'utf8')).toBe('');
  });
});

describe('hostname and read-only rootfs', () => {
  test('hostname is set and `touch /x` fails with EROFS, identically under both runtimes', () => {
    const out = {} as Record<RuntimeName, RunResult>;
    for (const name of RUNTIMES) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`fnd-ro-${name}`));
      const b = sb.bundle(
        { hostname: 'fnd-host', readonly: true, args: sh('hostname; touch /x 2>&1; echo "touch=$?"; ls /x 2>&1') },
        `bundle-${name}`,
      );
      out[name] = run(rt, ['run', '--bundle', b.dir, id]);
      expect(out[name].code, explain(out[name])).toBe(1);
      expect(out[name].stdout, explain(out[name])).toMatch(/^fnd-host\ntouch: \/x: Read-only file system\ntouch=1\n/);
      expect(fs.existsSync(path.join(b.rootfs, 'x'))).toBe(false);
    }
    expect(out.ocirun.stdout).toBe(out.runc.stdout);
  });
});
