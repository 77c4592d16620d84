// Terminals: `run` in the foreground of a real pty (echo, window size, Ctrl-C, exit status, the outer
// terminal restored), --console-socket received as containerd does, /dev/console, and runc's refusals.
import { beforeAll, describe, expect, test } from 'vitest';
import * as path from 'node:path';
import type { BundleOptions, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, sh, uniqueId } from './helpers/env';
import { expectFailed } from './helpers/observe';
import { consoleListener, drivePty, type PtyStep } from './helpers/pty';
import { binFor, create, del, explain, listIds, ok, run, start, waitForStatus, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

const terminal = (args: string[], extra?: (s: OciSpec) => void): BundleOptions => ({
  args,
  edit: (s) => {
    s.process.terminal = true;
    extra?.(s);
  },
});

// `run` in the foreground, under a pty the driver owns.
function runInPty(name: RuntimeName, opts: BundleOptions, size: [number, number], steps: PtyStep[]) {
  const rt = sb.runtime(name);
  const id = sb.track(rt, uniqueId(`tty-${name}`));
  const b = sb.bundle(opts, `bundle-${name}`);
  return drivePty([binFor(name), '--root', rt.root, 'run', '--bundle', b.dir, id], size, steps);
}

describe('run in the foreground with process.terminal', () => {
  test.each(RUNTIMES)('%s: typed input echoes, the process reads it, its exit status passes through, the terminal is restored', (name) => {
    const r = runInPty(name, terminal(sh('echo ready; read line; echo "got[$line]"; exit 7')), [24, 80], [
      ['expect', 'ready'],
      ['send', 'hello world\r'],
      ['expect', 'got['],
    ]);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    // The pty's line discipline echoes "hello world" (with ONLCR off inside, and output processing on
    // outside, every line ends in \r\n on our terminal, as with runc).
    expect(r.output).toBe('ready\r\nhello world\r\ngot[hello world]\r\n');
    expect(r.exit).toBe(7);
    expect(r.rawDuring, 'our terminal is raw while the container runs').toBe(true);
    expect(r.restored, 'our terminal modes are restored afterwards').toBe(true);
  });

  test('ocirun: the window size inside is ours from the first instruction, and follows a resize (SIGWINCH)', () => {
    const script = 'stty size; echo ready; while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; stty size';
    const r = runInPty('ocirun', terminal(sh(script)), [33, 101], [
      ['expect', 'ready'],
      ['winsize', 40, 120],
      ['expect', 'resized'],
    ]);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.output).toBe('33 101\r\nready\r\nresized\r\n40 120\r\n');
    expect(r.exit).toBe(0);
    expect(r.restored).toBe(true);
  });

  test('runc and ocirun agree on the size and modes inside (consoleSize equal to ours: runc resizes only after the start)', () => {
    // runc sets our size on the pty after the process has started, so the process may first see
    // consoleSize; with both equal the output is deterministic for both runtimes.
    const opts = terminal(sh('stty size; stty -a | tr " " "\\n" | grep -E "^-?(onlcr|opost|icrnl|isig|icanon|echo)$" | tr "\\n" " "; echo; tty'), (s) => {
      s.process.consoleSize = { height: 33, width: 101 };
    });
    const out = {} as Record<RuntimeName, ReturnType<typeof drivePty>>;
    for (const name of RUNTIMES) out[name] = runInPty(name, opts, [33, 101], [['expect', '/dev/pts/0']]);
    for (const name of RUNTIMES) {
      expect(out[name].ok, `${name}: ${JSON.stringify(out[name])}`).toBe(true);
      expect(out[name].exit).toBe(0);
    }
    expect(out.ocirun.output).toBe('33 101\r\nicrnl opost -onlcr isig icanon echo \r\n/dev/pts/0\r\n');
    expect(out.ocirun.output).toBe(out.runc.output);
  });

  test.each(RUNTIMES)('%s: Ctrl-C reaches the foreground process (SIGINT from the pty), its status passes through', (name) => {
    // Not cat as pid 1: the init of a pid namespace ignores signals it has no handler for.
    const r = runInPty(name, terminal(sh('echo ready; cat; s=$?; echo "cat exited $s"; exit $s')), [24, 80], [
      ['expect', 'ready'],
      ['send', 'abc\r'],
      ['expect', 'abc\r\nabc\r\n'],
      ['send', '\x03'],
    ]);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    // busybox sh passes a child's SIGINT death on as its own (130), so "cat exited" never prints.
    expect(r.output).toBe('ready\r\nabc\r\nabc\r\n^C');
    expect(r.exit).toBe(130);
    expect(r.restored).toBe(true);
  });
});

describe('--console-socket', () => {
  const script = 'stty size; read line; echo "got[$line]"; stat -c "%t %T %F %a" /dev/console; for fd in 0 1 2; do readlink /proc/self/fd/$fd; done';
  const opts = terminal(sh(script), (s) => {
    s.process.consoleSize = { height: 30, width: 90 };
  });

  test('create + start: exactly one fd, a pty master, runc\'s payload; input runs in the container; consoleSize applied; same as runc', async () => {
    const seen = {} as Record<RuntimeName, Awaited<ReturnType<typeof consoleListener>['done']>>;
    for (const name of RUNTIMES) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`cs-${name}`));
      const b = sb.bundle(opts, `bundle-${name}`);
      const sock = path.join(sb.dir(`sock-${name}`), 'console.sock');
      const listener = consoleListener(sock, 1, 'hello\n');
      try {
        ok(create(rt, id, b.dir, ['--console-socket', sock]));
        ok(start(rt, id));
        seen[name] = await listener.done;
      } finally {
        await listener.kill();
      }
      waitForStatus(rt, id, 'stopped');
      ok(del(rt, id));
    }
    const got = seen.ocirun;
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ payload: '/dev/ptmx', nfds: 1, truncated: false, ttyIndex: true });
    expect(got[0].ptn).toBeTypeOf('number');
    // The line was typed before the start, so its echo comes first; ONLCR is on inside for a
    // console-socket pty (only run's own proxy clears it), as in runc.
    expect(got[0].output).toBe(
      'hello\r\n30 90\r\ngot[hello]\r\n88 0 character special file 620\r\n/dev/pts/0\r\n/dev/pts/0\r\n/dev/pts/0\r\n',
    );
    expect(got).toEqual(seen.runc);
  });

  test.each(RUNTIMES)('%s: run -d hands the master over and detaches', async (name) => {
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`csd-${name}`));
    const b = sb.bundle(opts, `bundle-${name}`);
    const sock = path.join(sb.dir('sock'), 'console.sock');
    const listener = consoleListener(sock, 1, 'x\n');
    try {
      ok(run(rt, ['run', '-d', '--console-socket', sock, '--bundle', b.dir, id]));
      const [got] = await listener.done;
      expect(got).toMatchObject({ payload: '/dev/ptmx', nfds: 1, ttyIndex: true });
      expect(got.output).toContain('got[x]');
    } finally {
      await listener.kill();
    }
    waitForStatus(rt, id, 'stopped');
    ok(del(rt, id));
  });
});

describe('exec with a terminal', () => {
  // A running container without a terminal of its own; each exec asks for one.
  function running(name: RuntimeName) {
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`xt-${name}`));
    const b = sb.bundle({ args: ['sleep', '60'] }, `bundle-${name}`);
    ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
    return { rt, id };
  }

  test('exec -t in the foreground: echo, size from the first instruction, the pty as stdio, exit status, terminal restored; as runc', () => {
    const script = 'stty size; tty; for fd in 0 1 2; do readlink /proc/self/fd/$fd; done; echo ready; read line; echo "got[$line]"; exit 5';
    const seen = {} as Record<RuntimeName, unknown>;
    for (const name of RUNTIMES) {
      const { rt, id } = running(name);
      const r = drivePty([binFor(name), '--root', rt.root, 'exec', '-t', id, 'sh', '-c', script], [27, 93], [
        ['expect', 'ready\r\n'],
        ['send', 'typed\r'],
        ['expect', 'got['],
      ]);
      expect(r.ok, `${name}: ${JSON.stringify(r)}`).toBe(true);
      expect(r.exit, name).toBe(5);
      expect(r.restored, name).toBe(true);
      seen[name] = r.output;
      ok(del(rt, id, true));
    }
    expect(seen.ocirun).toBe('27 93\r\n/dev/pts/0\r\n/dev/pts/0\r\n/dev/pts/0\r\n/dev/pts/0\r\nready\r\ntyped\r\ngot[typed]\r\n');
    // runc 1.1.5 sizes the pty only after the process started, so its first `stty size` races (it may see
    // no size yet); everything after that line must be the same.
    const afterSize = (o: unknown) => String(o).slice(String(o).indexOf('\r\n') + 2);
    expect(afterSize(seen.ocirun)).toEqual(afterSize(seen.runc));
  });

  test('exec -d -t --console-socket: exactly one fd, a pty master, runc\'s payload, input runs in the container; as runc', async () => {
    const seen = {} as Record<RuntimeName, Awaited<ReturnType<typeof consoleListener>['done']>>;
    for (const name of RUNTIMES) {
      const { rt, id } = running(name);
      const sock = path.join(sb.dir(`xsock-${name}`), 'console.sock');
      const listener = consoleListener(sock, 1, 'hello\n');
      try {
        ok(run(rt, ['exec', '-d', '-t', '--console-socket', sock, id, 'sh', '-c', 'read line; echo "got[$line]"; tty']));
        seen[name] = await listener.done;
      } finally {
        await listener.kill();
      }
      ok(del(rt, id, true));
    }
    expect(seen.ocirun).toHaveLength(1);
    expect(seen.ocirun[0]).toMatchObject({ payload: '/dev/ptmx', nfds: 1, truncated: false, ttyIndex: true });
    expect(seen.ocirun[0].output).toContain('got[hello]');
    expect(seen.ocirun).toEqual(seen.runc);
  });
});

describe('refusals, as runc words them', () => {
  const cases: { what: string; term: boolean; args: (sock: string) => string[]; msg: string }[] = [
    { what: 'create, terminal, no socket', term: true, args: () => ['create'], msg: 'cannot allocate tty if runc will detach without setting console socket' },
    { what: 'run -d, terminal, no socket', term: true, args: () => ['run', '-d'], msg: 'cannot allocate tty if runc will detach without setting console socket' },
    { what: 'create, socket, no terminal', term: false, args: (s) => ['create', '--console-socket', s], msg: 'cannot use console socket if runc will not detach or allocate tty' },
    { what: 'run (foreground), terminal and socket', term: true, args: (s) => ['run', '--console-socket', s], msg: 'cannot use console socket if runc will not detach or allocate tty' },
    { what: 'create, socket path with no listener', term: true, args: () => ['create', '--console-socket', '/nonexistent/console.sock'], msg: 'dial unix /nonexistent/console.sock: connect: no such file or directory' },
  ];
  test.each(cases)('$what', ({ term, args, msg }) => {
    for (const name of RUNTIMES) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`tty-refuse-${name}`));
      const b = sb.bundle(terminal(['true'], (s) => void (s.process.terminal = term)), `bundle-${name}`);
      const [cmd, ...rest] = args(path.join(b.dir, 'unused.sock'));
      const r = run(rt, [cmd, ...rest, '--bundle', b.dir, id], { capture: 'file' });
      expectFailed(r, `${name} ${cmd} failed: ${msg}`);
      expect(listIds(rt), explain(r)).not.toContain(id);
    }
  });
});
