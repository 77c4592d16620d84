// Process plumbing, differential against runc 1.1.5: --preserve-fds, LISTEN_FDS socket activation, the NOTIFY_SOCKET
// proxy, --pid-file, signal forwarding and reaping in a foreground run (--no-subreaper), and the stdio of a detached
// container staying the caller's after create / run -d return.
import { execFileSync, spawn, spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import type { BundleOptions, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, REPO_ROOT, RUNC_BIN, requireBinaries, runtimeEnv, scratchBase, sh, uniqueId } from './helpers/env';
import { ok, run, state, type Runtime, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];
let sdnotify = '';

beforeAll(() => {
  requireBinaries(RUNC_BIN, OCIRUN_BIN);
  // busybox has no unix datagram client: a static helper sends sd_notify messages from inside the container.
  sdnotify = path.join(scratchBase(), 'sdnotify');
  execFileSync('musl-gcc', ['-static', '-Os', '-o', sdnotify, path.join(REPO_ROOT, 'test', 'fixtures', 'sdnotify.c')]);
});

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The runtime with extra fds from 3 and, with listenPid, LISTEN_PID set to its own pid through an exec'ing sh. */
function spawnRt(rt: Runtime, args: string[], o: { fds?: () => number[]; env?: NodeJS.ProcessEnv; listenPid?: boolean } = {}): Spawned {
  const argv = ['--root', rt.root, ...args];
  // Fresh descriptions per run: the container reads from them, and a shared offset would differ between runtimes.
  const fds = o.fds?.() ?? [];
  const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', ...fds];
  const r = o.listenPid
    ? spawnSync('sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', rt.bin, ...argv], { stdio, env: runtimeEnv(o.env), encoding: 'utf8', timeout: 20_000, input: '' })
    : spawnSync(rt.bin, argv, { stdio, env: runtimeEnv(o.env), encoding: 'utf8', timeout: 20_000, input: '' });
  for (const fd of fds) fs.closeSync(fd);
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function bothRuns(name: string, opts: BundleOptions, extra: string[], o: Parameters<typeof spawnRt>[2] = {}): Record<RuntimeName, Spawned> {
  const out = {} as Record<RuntimeName, Spawned>;
  for (const n of RUNTIMES) {
    const rt = sb.runtime(n);
    const b = sb.bundle(opts, `bundle-${n}`);
    const id = sb.track(rt, uniqueId(name));
    out[n] = spawnRt(rt, ['run', '--bundle', b.dir, ...extra, id], o);
  }
  return out;
}

const FD_LIST = sh('for f in 3 4 5 6; do echo "$f $(readlink /proc/self/fd/$f 2>/dev/null || echo -)"; done; env | grep -E "^LISTEN_" | sort; cat <&3');

function files(...names: string[]): () => number[] {
  const d = sb.dir('fds');
  for (const n of names) fs.writeFileSync(path.join(d, n), `content of ${n}\n`);
  return () => names.map((n) => fs.openSync(path.join(d, n), 'r'));
}

test('--preserve-fds N passes fds 3..3+N-1 at their numbers, nothing above', () => {
  const fds = files('a', 'b', 'c');
  const r = bothRuns('preserve', { args: FD_LIST }, ['--preserve-fds', '2'], { fds });
  for (const n of RUNTIMES) expect(r[n].code, `${n}: ${r[n].stderr}`).toBe(0);
  expect(r.ocirun.stdout).toBe(r.runc.stdout);
  expect(r.ocirun.stdout).toMatch(/^3 .*\/a\n4 .*\/b\n5 -\n6 -\ncontent of a\n$/);
});

test('--preserve-fds asking for more fds than were given fails and passes none of the runtime\'s own', () => {
  // runc 1.1.5 stats /proc/self/fd/3 in its own process and finds one of its own fds (a cgroup directory), which it
  // then hands to the container; ocirun knows which fds it was given and refuses, with runc's error text.
  const rt = sb.runtime('ocirun');
  const b = sb.bundle({ args: FD_LIST });
  const id = sb.track(rt, uniqueId('preserve-missing'));
  const r = spawnRt(rt, ['run', '--bundle', b.dir, '--preserve-fds', '1', id]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('unable to stat preserved-fd 0 (of 1)');
  expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
});

test('LISTEN_FDS with our LISTEN_PID: the fds come first, LISTEN_FDS/LISTEN_PID=1 in the env, --preserve-fds after them', () => {
  const fds = files('l1', 'l2', 'p1');
  const r = bothRuns('listen', { args: FD_LIST }, ['--preserve-fds', '1'], { fds, env: { LISTEN_FDS: '2' }, listenPid: true });
  for (const n of RUNTIMES) expect(r[n].code, `${n}: ${r[n].stderr}`).toBe(0);
  expect(r.ocirun.stdout).toBe(r.runc.stdout);
  expect(r.ocirun.stdout).toMatch(/^3 .*\/l1\n4 .*\/l2\n5 .*\/p1\n6 -\nLISTEN_FDS=2\nLISTEN_PID=1\ncontent of l1\n$/);
});

test('LISTEN_FDS for another process (LISTEN_PID not ours) is ignored', () => {
  const fds = files('x');
  const r = bothRuns('listen-other', { args: sh('for f in 3 4; do echo "$f $(readlink /proc/self/fd/$f 2>/dev/null || echo -)"; done; env | grep -E "^LISTEN_" | sort') }, [], {
    fds,
    env: { LISTEN_FDS: '1', LISTEN_PID: '1' },
  });
  expect(r.runc.code, r.runc.stderr).toBe(0);
  expect(r.ocirun.code, r.ocirun.stderr).toBe(0);
  expect(r.ocirun.stdout).toBe(r.runc.stdout);
  expect(r.ocirun.stdout).toBe('3 -\n4 -\n');
});

// A host-side sd_notify receiver: python3, since Node has no unix datagram sockets.
const LISTENER = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); print("listening", flush=True)
s.settimeout(float(sys.argv[2]))
try:
    while True:
        print(json.dumps(s.recv(4096).decode()), flush=True)
except socket.timeout:
    pass
`;

function listen(sock: string, seconds: number): { ready: Promise<void>; done: Promise<string[]> } {
  const p = spawn('python3', ['-c', LISTENER, sock, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let signalReady: () => void;
  const ready = new Promise<void>((r) => (signalReady = r));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('listening\n')) signalReady();
  });
  const done = new Promise<string[]>((resolve) => p.on('exit', () => resolve(out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as string))));
  return { ready, done };
}

function withSdnotify(script: string): BundleOptions {
  return {
    args: sh(script),
    edit: (spec: OciSpec) => {
      spec.mounts = [...(spec.mounts ?? []), { destination: '/usr/bin/sdnotify', type: 'bind', source: sdnotify, options: ['bind', 'ro'] }];
    },
  };
}

type NotifyMode = 'run' | 'run -d' | 'create/start';

async function notifyRun(n: RuntimeName, mode: NotifyMode): Promise<{ got: string[]; mainPid: number; runtimePid: number; initPid: number; out: string }> {
  const rt = sb.runtime(n);
  const b = sb.bundle(withSdnotify('echo "env $NOTIFY_SOCKET"; sdnotify STATUS=starting "READY=1\nSTATUS=up" STATUS=after; sleep 0.5'), `bundle-${n}`);
  const id = sb.track(rt, uniqueId('notify'));
  const hostSock = path.join(sb.dir('notify'), 'host.sock');
  const l = listen(hostSock, 3);
  await l.ready;
  const env = { NOTIFY_SOCKET: hostSock };
  let runtimePid = -1;
  let initPid = -1;
  let out = '';
  if (mode === 'run') {
    const p = spawn(rt.bin, ['--root', rt.root, 'run', '--bundle', b.dir, id], { env: runtimeEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    runtimePid = p.pid!;
    p.stdin.end();
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => p.on('exit', r));
    expect(code).toBe(0);
  } else {
    const cmds = mode === 'run -d' ? [['run', '-d', '--bundle', b.dir, id]] : [['create', '--bundle', b.dir, id], ['start', id]];
    for (const c of cmds) {
      if (c[0] !== 'start') ok(run(rt, c, { env: runtimeEnv(env) }));
      else {
        initPid = state(rt, id).pid;
        ok(run(rt, c, { env: runtimeEnv(env) }));
      }
    }
    if (initPid < 0) initPid = -2;
  }
  const got = await l.done;
  const mainLine = got.find((m) => m.startsWith('MAINPID=')) ?? '';
  return { got, mainPid: Number(mainLine.slice(8)), runtimePid, initPid, out };
}

for (const mode of ['run', 'run -d', 'create/start'] as NotifyMode[]) {
  test(`NOTIFY_SOCKET (${mode}): READY is forwarded with MAINPID, nothing else`, async () => {
    const res = {} as Record<RuntimeName, Awaited<ReturnType<typeof notifyRun>>>;
    for (const n of RUNTIMES) res[n] = await notifyRun(n, mode);
    for (const n of RUNTIMES) {
      const r = res[n];
      expect(r.got, n).toEqual(['READY=1\n', `MAINPID=${r.mainPid}\n`]);
      if (mode === 'run') {
        // In the foreground the runtime stays the process to watch.
        expect(r.mainPid, n).toBe(r.runtimePid);
        expect(r.out).toBe('env /run/notify/notify.sock\n');
      } else if (mode === 'create/start') {
        expect(r.mainPid, n).toBe(r.initPid);
      } else {
        expect(r.mainPid, n).toBeGreaterThan(1);
      }
    }
  });
}

test('--pid-file: create and run -d replace the file by rename with the init\'s host pid, no newline, no temp file left', () => {
  for (const n of RUNTIMES) {
    for (const cmd of ['create', 'run -d']) {
      const rt = sb.runtime(n);
      const b = sb.bundle({ args: ['sleep', '100'] }, `bundle-${n}`);
      const id = sb.track(rt, uniqueId('pidfile'));
      const d = sb.dir('pid');
      const pidFile = path.join(d, 'init.pid');
      fs.writeFileSync(pidFile, 'old');
      const before = fs.statSync(pidFile).ino;
      const args = cmd === 'create' ? ['create'] : ['run', '-d'];
      ok(run(rt, [...args, '--bundle', b.dir, '--pid-file', pidFile, id]));
      const st = state(rt, id);
      expect(fs.readFileSync(pidFile, 'utf8'), `${n} ${cmd}`).toBe(String(st.pid));
      // A new inode: the file was renamed into place, never truncated and rewritten where a reader could see it empty.
      expect(fs.statSync(pidFile).ino, `${n} ${cmd}`).not.toBe(before);
      expect(fs.readdirSync(d), `${n} ${cmd}`).toEqual(['init.pid']);
      ok(run(rt, ['delete', '--force', id]));
    }
  }
});

test('run in the foreground forwards the catchable signals to the init, as runc does', async () => {
  const names = ['HUP', 'INT', 'QUIT', 'TRAP', 'ABRT', 'USR1', 'USR2', 'PIPE', 'ALRM', 'STKFLT', 'CONT', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS', 'URG'];
  const script = `${names.map((s) => `trap "echo got ${s}" ${s};`).join(' ')} trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done`;
  const seen = {} as Record<RuntimeName, string[]>;
  for (const n of RUNTIMES) {
    const rt = sb.runtime(n);
    const b = sb.bundle({ args: sh(script) }, `bundle-${n}`);
    const id = sb.track(rt, uniqueId('signals'));
    const p = spawn(rt.bin, ['--root', rt.root, 'run', '--bundle', b.dir, id], { env: runtimeEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin.end();
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    const waitFor = async (text: string, ms: number) => {
      const end = Date.now() + ms;
      while (!out.includes(text) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      return out.includes(text);
    };
    expect(await waitFor('ready\n', 10_000), `${n}: ${out}`).toBe(true);
    seen[n] = [];
    for (const s of names) {
      p.kill(`SIG${s}` as NodeJS.Signals);
      // A signal that is not forwarded never shows up; the next one is sent after a generous wait.
      if (await waitFor(`got ${s}\n`, 1500)) seen[n].push(s);
    }
    p.kill('SIGTERM');
    expect(await exited, `${n}: ${out}`).toBe(7);
    expect(out).toContain('got TERM\n');
  }
  expect(seen.ocirun).toEqual(seen.runc);
  // What runc 1.1.5 does, spelled out: everything but WINCH (its terminal resize) and PROF (Go's runtime keeps it).
  expect(seen.runc).toEqual(names.filter((s) => s !== 'WINCH' && s !== 'PROF'));
});

function noPidNs(script: string): BundleOptions {
  return {
    args: sh(script),
    edit: (spec: OciSpec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
    },
  };
}

// Without a pid namespace the container's orphans are reparented to the runtime (the subreaper), which must reap them.
const ORPHAN = `p=$( (sleep 0.3 >/dev/null 2>&1 & echo $!) ); ppid=$(cut -d" " -f4 /proc/$p/stat); i=0;
while [ $i -lt 100 ] && [ -e /proc/$p ]; do i=$((i+1)); sleep 0.1; done;
if [ -e /proc/$p ]; then echo "left $(cut -d" " -f3 /proc/$p/stat)"; else echo reaped; fi; echo "ppid $ppid"; exit 3`;

async function orphanRun(n: RuntimeName, extra: string[]): Promise<{ code: number | null; out: string; pid: number }> {
  const rt = sb.runtime(n);
  const b = sb.bundle(noPidNs(ORPHAN), `bundle-${n}`);
  const id = sb.track(rt, uniqueId('orphan'));
  const p = spawn(rt.bin, ['--root', rt.root, 'run', ...extra, '--bundle', b.dir, id], { env: runtimeEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  p.stdin.end();
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  return { code, out, pid: p.pid! };
}

test('run is the subreaper: an orphaned grandchild becomes its child and is reaped', async () => {
  for (const n of RUNTIMES) {
    const r = await orphanRun(n, []);
    expect(r.code, `${n}: ${r.out}`).toBe(3);
    expect(r.out, n).toBe(`reaped\nppid ${r.pid}\n`);
  }
});

test('run --no-subreaper: orphans go elsewhere, the exit status still comes through', async () => {
  for (const n of RUNTIMES) {
    const r = await orphanRun(n, ['--no-subreaper']);
    expect(r.code, `${n}: ${r.out}`).toBe(3);
    expect(r.out, n).toMatch(/^reaped\nppid \d+\n$/);
    expect(r.out, n).not.toBe(`reaped\nppid ${r.pid}\n`);
  }
});

function runtimeProcesses(root: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(root) && !cmd.includes('sleep')) out.push(`${name}: ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

for (const mode of ['create', 'run -d']) {
  test(`detached ${mode}: the container keeps the caller's stdio and no runtime process stays`, async () => {
    for (const n of RUNTIMES) {
      const rt = sb.runtime(n);
      const b = sb.bundle({ args: sh('read line; echo "out $line"; echo err >&2') }, `bundle-${n}`);
      const id = sb.track(rt, uniqueId('detached'));
      const args = mode === 'create' ? ['create'] : ['run', '-d'];
      const p = spawn(rt.bin, ['--root', rt.root, ...args, '--bundle', b.dir, id], { env: runtimeEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      // Node closes our end of the child's stdin once it exits: the line is queued in the pipe before that.
      p.stdin.end('hello\n');
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const outEnd = new Promise((r) => p.stdout.on('close', r));
      const errEnd = new Promise((r) => p.stderr.on('close', r));
      const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
      expect(code, `${n}: ${err}`).toBe(0);
      // The runtime is gone while the container still holds the pipes.
      expect(runtimeProcesses(rt.root), n).toEqual([]);
      if (mode === 'create') {
        expect(state(rt, id).status).toBe('created');
        ok(run(rt, ['start', id]));
      }
      await Promise.all([outEnd, errEnd]);
      expect(out, n).toBe('out hello\n');
      expect(err, n).toBe('err\n');
    }
  });
}
