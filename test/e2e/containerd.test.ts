// End to end through Debian's containerd 1.6 and its runc shim (containerd-shim-runc-v2) with
// `--runc-binary dist/ocirun`: the shim drives ocirun exactly as it drives runc in production
// (create --bundle --pid-file [--console-socket], start, state, kill, delete, pause/resume, ps, exec).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cgroupsOf, Containerd, mountsUnder, type CtrResult } from './containerd';
import { buildBusyboxImage, IMAGE_NAME } from './image';
import { recordCalls, type RuntimeCalls } from './calls';

const REPO = path.resolve(__dirname, '..', '..');
const OCIRUN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO, 'dist', 'ocirun'));
// E2E_RUNTIME=/usr/sbin/runc runs the same suite against runc (the oracle), every test included.
const ORACLE = process.env.E2E_RUNTIME || undefined;
const RUNTIME = ORACLE ?? OCIRUN;
const HAVE = ['containerd', 'ctr', 'containerd-shim-runc-v2'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);

// Features other work brings: the tests for them switch on by themselves once the binary has them.
// (Every command prints help; exec's lists its flags only once it exists.)
const execImplemented = !!ORACLE || (() => {
  const r = spawnSync(OCIRUN, ['exec', '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--process');
})();
const consoleImplemented = !!ORACLE || (() => {
  const r = spawnSync(OCIRUN, ['--root', '/nonexistent-ocirun-probe', 'create', '--console-socket', '/nonexistent', '--bundle', '/nonexistent', 'probe'], { encoding: 'utf8' });
  return !/not implemented/.test(r.stderr);
})();

let cd: Containerd;
// Every call the shim makes goes through a logging wrapper (test/e2e/calls.ts).
let calls: RuntimeCalls;
let n = 0;
const newId = () => `c${++n}`;

function explain(r: CtrResult, id?: string): string {
  return `exit=${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- runtime log\n${id ? cd.shimLog(id) : ''}\n--- containerd\n${cd.containerdLog()}`;
}

function ok(r: CtrResult, id?: string): CtrResult {
  if (r.code !== 0) throw new Error(`ctr failed\n${explain(r, id)}`);
  return r;
}

function taskStatus(id: string): string | undefined {
  const line = cd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line?.trim().split(/\s+/)[2];
}

async function waitStatus(id: string, want: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = taskStatus(id);
    if (s === want) return;
    if (Date.now() > deadline) throw new Error(`task ${id} is ${s}, wanted ${want}\n${cd.shimLog(id)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const runArgs = (id: string, ...rest: string[]) => ['run', '--runc-binary', calls.bin, ...rest, IMAGE_NAME, id];

describe.skipIf(!HAVE)('containerd with --runc-binary ocirun', () => {
  beforeAll(async () => {
    if (!fs.existsSync(OCIRUN)) throw new Error(`${OCIRUN} does not exist: build it first`);
    cd = new Containerd();
    await cd.start();
    calls = recordCalls(path.join(cd.dir, 'calls'), RUNTIME);
    const image = buildBusyboxImage(path.join(cd.dir, 'image'));
    ok(cd.ctr(['images', 'import', '--all-platforms', image], { timeoutMs: 60_000 }));
  }, 120_000);

  afterAll(async () => {
    if (!cd) return;
    const dir = cd.dir;
    const ns = cd.namespace;
    calls?.save('containerd-ctr');
    await cd.stop();
    // Nothing may outlive the suite: no mounts under our dir, no cgroups of our namespace, no process of ours.
    expect(mountsUnder(dir)).toEqual([]);
    expect(cgroupsOf(ns)).toEqual([]);
    const left = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  }, 120_000);

  test('ctr run --rm: output and exit status come through the shim', () => {
    const id = newId();
    const r = cd.ctr([...runArgs(id, '--rm'), 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    expect(r.code, explain(r, id)).toBe(3);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('oops\n');
    expect(cd.ctr(['container', 'ls', '-q']).stdout).not.toContain(id);
  });

  test('ctr run --rm: the process is pid 1 with the image environment', () => {
    const id = newId();
    const r = ok(cd.ctr([...runArgs(id, '--rm'), 'sh', '-c', 'echo $$ $PATH; id -u; cat /proc/self/cgroup | grep -c .']), id);
    const [first, uid] = r.stdout.split('\n');
    expect(first).toBe('1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(uid).toBe('0');
  });

  test('a detached task: ps, pause, resume, kill, delete', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sh', '-c', 'sleep 1000 & wait']), id);
    try {
      await waitStatus(id, 'RUNNING');
      const ps = ok(cd.ctr(['task', 'ps', id]), id).stdout.trim().split('\n').slice(1);
      // sh (pid 1 inside) and its sleep: host pids, one line each.
      expect(ps.length, ps.join('\n')).toBe(2);
      ok(cd.ctr(['task', 'pause', id]), id);
      await waitStatus(id, 'PAUSED');
      ok(cd.ctr(['task', 'resume', id]), id);
      await waitStatus(id, 'RUNNING');
      ok(cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]), id);
      await waitStatus(id, 'STOPPED');
      ok(cd.ctr(['task', 'delete', id]), id);
      expect(taskStatus(id)).toBeUndefined();
    } finally {
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test('a detached task exits on SIGTERM with its status', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']), id);
    try {
      await waitStatus(id, 'RUNNING');
      ok(cd.ctr(['task', 'kill', id]), id);
      await waitStatus(id, 'STOPPED');
      // ctr 1.6's task delete reports a non-zero status as a warning.
      const del = ok(cd.ctr(['task', 'delete', id]), id);
      expect(del.stderr).toContain(`task ${id} exit with non-zero exit code 42`);
    } finally {
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test.skipIf(!execImplemented)('ctr task exec: output and exit status of a process in a running task', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sleep', '1000']), id);
    try {
      await waitStatus(id, 'RUNNING');
      const r = cd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo as $$ beside $(cat /proc/1/comm); exit 5']);
      expect(r.code, explain(r, id)).toBe(5);
      expect(r.stdout).toMatch(/^as \d+ beside sleep\n$/);
      expect(r.stdout).not.toBe('as 1 beside sleep\n');
    } finally {
      cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test.skipIf(!consoleImplemented)('ctr run --tty through a real pty', () => {
    const id = newId();
    // ctr wants its stdin to be a terminal: script(1) gives it one.
    const cmd = `ctr -a ${cd.sock} -n ${cd.namespace} run --rm -t --runc-binary ${calls.bin} ${IMAGE_NAME} ${id} sh -c 'tty; exit 4'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '' });
    expect(r.status, `${r.stdout}\n${r.stderr}\n${cd.shimLog(id)}`).toBe(4);
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console)/);
  });
});
