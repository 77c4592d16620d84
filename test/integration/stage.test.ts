// The stub's final stage (stub/stage.c, stub/hooks.c) driven directly: build/ocirun-stub started as create's
// init hands over to it (_OCIRUN_PLAN, _OCIRUN_SOCK), with PLANs encoded by src/process/plan.ts, on the host,
// without namespaces. Checks what the program starts with, every message an ERROR can carry, READY and the exec
// fifo, and startContainer hooks. The container-level behaviour is compared with runc in the other files.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, requireBinaries, scratchBase } from './helpers/env';
import { useSandbox } from './helpers/sandbox';
import { encodePlan, type StagePlan, type StageHook } from '../../src/process/plan';
import { encodeMessage, MSG } from '../../src/process/protocol';
import { compileSeccomp } from '../../src/seccomp/compile';

const sb = useSandbox();
const STUB = path.join(REPO_ROOT, 'build', 'ocirun-stub');
const O_PATH = 0o10000000;

beforeAll(() => requireBinaries(STUB, '/bin/sh'));

const plan = (over: Partial<StagePlan> = {}): StagePlan => ({
  rlimits: [],
  cwd: '/',
  bounding: { lastCap: Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')), keep: (1n << 41n) - 1n },
  user: { uid: 0, gid: 0, groups: [] },
  caps: { effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n },
  noNewPrivileges: false,
  args: ['/bin/sh', '-c', 'true'],
  env: ['PATH=/usr/bin:/bin'],
  umask: 0o22,
  preserveFds: 0,
  ...over,
});

interface Staged {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  messages: { type: number; text: string }[];
}

// Fd layout of the stub: 0-2 pipes, 3 the socket (a socketpair: Node's 'pipe'), 4 the PLAN file, then `extra`.
function stage(p: StagePlan | Buffer, opts: { extra?: number[]; onReady?: () => void; planMsgType?: number } = {}): Promise<Staged> {
  const file = path.join(sb.dir('plan'), 'plan');
  fs.writeFileSync(file, Buffer.isBuffer(p) ? encodeMessage(opts.planMsgType ?? MSG.PLAN, p) : encodeMessage(MSG.PLAN, encodePlan(p)));
  const planFd = fs.openSync(file, 'r');
  const child = spawn(STUB, [], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', planFd, ...(opts.extra ?? [])],
    env: { _OCIRUN_SOCK: '3', _OCIRUN_PLAN: '4' },
  });
  fs.closeSync(planFd);
  child.stdin!.end();
  let stdout = '';
  let stderr = '';
  let raw = Buffer.alloc(0);
  const messages: Staged['messages'] = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const sock = child.stdio[3] as NodeJS.ReadableStream;
  sock.on('data', (d: Buffer) => {
    raw = Buffer.concat([raw, d]);
    while (raw.length >= 8 && raw.length >= 8 + raw.readUInt32LE(4)) {
      const len = raw.readUInt32LE(4);
      messages.push({ type: raw.readUInt32LE(0), text: raw.subarray(8, 8 + len).toString() });
      if (raw.readUInt32LE(0) === MSG.READY) opts.onReady?.();
      raw = raw.subarray(8 + len);
    }
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, messages })));
}

const errors = (r: Staged) => r.messages.filter((m) => m.type === MSG.ERROR).map((m) => m.text);

function expectError(r: Staged, text: string): void {
  expect(r.code, JSON.stringify(r)).toBe(1);
  expect(errors(r)).toEqual([text]);
  expect(r.stdout).toBe('');
}

const status = (r: Staged, field: string) => new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(r.stdout)?.[1]?.trim();

// A directory every user can reach (scratch directories are 0700).
function openDir(name: string, mode = 0o755): string {
  const d = sb.dir(name);
  for (let p = d; p.startsWith(scratchBase()) || p === scratchBase(); p = path.dirname(p)) {
    fs.chmodSync(p, 0o755);
    if (p === scratchBase()) break;
  }
  fs.chmodSync(d, mode);
  return d;
}

describe('the process the stage exec\'s', () => {
  test('ids, groups, all five capability sets, no_new_privs, umask, cwd, argv and exactly the env', async () => {
    const bit = (...c: number[]) => c.reduce((m, x) => m | (1n << BigInt(x)), 0n);
    const r = await stage(
      plan({
        user: { uid: 1000, gid: 1001, groups: [10, 20] },
        bounding: { lastCap: plan().bounding.lastCap, keep: bit(0, 5, 10) },
        caps: { effective: bit(5, 10), permitted: bit(5, 10), inheritable: bit(10), ambient: bit(10) },
        noNewPrivileges: true,
        umask: 0o27,
        cwd: '/tmp',
        args: ['sh', '-c', 'grep -E "^(Uid|Gid|Groups|Cap...|NoNewPrivs|Umask):" /proc/self/status; pwd; echo "$0 $1"; tr "\\0" "\\n" </proc/$$/environ', 'x'],
        env: ['PATH=/usr/bin:/bin', 'A=1'],
      }),
    );
    expect(r.code, JSON.stringify(r)).toBe(0);
    expect(status(r, 'Uid')).toBe('1000\t1000\t1000\t1000');
    expect(status(r, 'Gid')).toBe('1001\t1001\t1001\t1001');
    expect(status(r, 'Groups')).toBe('10 20');
    // Ambient capabilities survive execve into effective and permitted for a non-root user.
    expect([status(r, 'CapInh'), status(r, 'CapPrm'), status(r, 'CapEff'), status(r, 'CapBnd'), status(r, 'CapAmb')]).toEqual([
      '0000000000000400', '0000000000000400', '0000000000000400', '0000000000000421', '0000000000000400',
    ]);
    expect(status(r, 'NoNewPrivs')).toBe('1');
    expect(status(r, 'Umask')).toBe('0027');
    expect(r.stdout).toMatch(/\n\/tmp\nx \nPATH=\/usr\/bin:\/bin\nA=1\n$/);
    expect(r.messages).toEqual([]);
  });

  test('rlimits, personality, scheduler and I/O priority', async () => {
    const r = await stage(
      plan({
        rlimits: [{ resource: 7, soft: 200n, hard: 300n, what: 'x' }, { resource: 4, soft: 2n ** 64n - 1n, hard: 2n ** 64n - 1n, what: 'y' }],
        personality: 8, // PER_LINUX32
        sched: { attr: { policy: 3, flags: 0, nice: 7, priority: 0, runtime: 0n, deadline: 0n, period: 0n }, cpusSet: false },
        ioprio: (3 << 13) | 0, // IOPRIO_CLASS_IDLE
        args: ['sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -c; uname -m; cut -d" " -f19,41 /proc/self/stat'],
      }),
    );
    expect(r.code, JSON.stringify(r)).toBe(0);
    // Field 19 is nice, 41 the policy (SCHED_BATCH: 3).
    expect(r.stdout).toBe('200\n300\nunlimited\ni686\n7 3\n');
  });

  test('--preserve-fds: stdio and N fds stay, everything else is closed', async () => {
    const keep = fs.openSync('/dev/null', 'r');
    const drop = fs.openSync('/dev/null', 'r');
    try {
      // fd 5 (the first extra) is preserved as fd 5 only if 3 and 4 are too: preserve 3 (fds 3, 4, 5).
      const r = await stage(plan({ preserveFds: 3, args: ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "'] }), { extra: [keep, drop] });
      expect(r.code, JSON.stringify(r)).toBe(0);
      // ls opens one fd of its own for the directory (3 is taken: it gets 7 or the like); 6 is gone.
      expect(r.stdout.split(' ').filter(Boolean).map(Number).filter((n) => n <= 6)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      fs.closeSync(keep);
      fs.closeSync(drop);
    }
  });

  test('a cwd only the user may enter is entered again after the switch; one only root may enter stays', async () => {
    const mine = openDir('mine', 0o700);
    fs.chownSync(mine, 1000, 1000);
    const roots = openDir('roots', 0o700);
    const user = { uid: 1000, gid: 1000, groups: [] };
    const r1 = await stage(plan({ user, cwd: mine, args: ['sh', '-c', 'pwd'] }));
    expect(r1.stdout).toBe(`${mine}\n`);
    const r2 = await stage(plan({ user, cwd: roots, args: ['/bin/sh', '-c', 'echo ran'] }));
    expect(r2.stdout).toBe('ran\n');
  });

  test('an environment entry longer than an attribute, and many arguments', async () => {
    // Below MAX_ARG_STRLEN (128 KiB), above what one attribute holds.
    const big = 'y'.repeat(100_000);
    const args = Array.from({ length: 2000 }, (_, i) => `a${i}`);
    const r = await stage(plan({ env: ['PATH=/bin', `BIG=${big}`], args: ['sh', '-c', 'echo ${#BIG} $# ${2000}', 'sh', ...args] }));
    expect(r.stdout).toBe('100000 2000 a1999\n');
  });

  test('seccomp: loaded before the user switch without no_new_privs, right before execve with it', async () => {
    const filter = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    const dir = openDir('sc', 0o777);
    for (const nnp of [false, true]) {
      const r = await stage(
        plan({
          user: { uid: 1000, gid: 1000, groups: [] },
          noNewPrivileges: nnp,
          seccomp: { flags: filter.flags, filter: filter.filter },
          args: ['sh', '-c', `mkdir ${dir}/x${nnp} 2>&1; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status`],
        }),
      );
      expect(r.code, JSON.stringify(r)).toBe(0);
      expect(r.stdout).toMatch(/Operation not permitted\n/);
      expect(r.stdout).toContain(`NoNewPrivs:\t${nnp ? 1 : 0}\nSeccomp:\t2\n`);
    }
  });
});

describe('errors, as ERROR messages with the JS init\'s words', () => {
  test.each([
    ['a soft limit above the hard one', plan({ rlimits: [{ resource: 7, soft: 2n, hard: 1n, what: 'process.rlimits[3] (RLIMIT_NOFILE)' }] }),
      'process.rlimits[3] (RLIMIT_NOFILE): error setting rlimit type 7: invalid argument'],
    ['a missing cwd', plan({ cwd: '/nonexistent "dir"' }),
      'process.cwd: chdir to cwd ("/nonexistent \\"dir\\"") set in config.json failed: no such file or directory'],
    ['a cwd that is a file', plan({ cwd: '/etc/passwd' }), 'process.cwd: chdir to cwd ("/etc/passwd") set in config.json failed: not a directory'],
    ['a program not on PATH', plan({ args: ['no-such-program'] }), 'exec: "no-such-program": executable file not found in $PATH'],
    ['a path that does not exist', plan({ args: ['/no/such'] }), 'exec: "/no/such": stat /no/such: no such file or directory'],
    // runc's words (Go's LookPath), which podman maps to its 126: compared with runc in process.test.ts.
    ['a directory', plan({ args: ['/tmp'] }), 'exec: "/tmp": permission denied'],
    ['a file without execute bits', plan({ user: { uid: 1000, gid: 1000, groups: [] }, args: ['/etc/shadow'] }), 'exec: "/etc/shadow": permission denied'],
    ['an unknown scheduler policy', plan({ sched: { attr: { policy: 4, flags: 0, nice: 0, priority: 0, runtime: 0n, deadline: 0n, period: 0n }, cpusSet: false } }),
      'process.scheduler: error setting scheduler: invalid argument'],
  ])('%s', async (_name, p, message) => {
    expectError(await stage(p), message);
  });

  test('a file with execute bits only for its owner: the kernel\'s answer to faccessat as the user', async () => {
    const prog = path.join(openDir('owner-only'), 'prog');
    fs.writeFileSync(prog, '#!/bin/sh\n', { mode: 0o700 });
    expectError(await stage(plan({ user: { uid: 1000, gid: 1000, groups: [] }, args: [prog] })), `exec ${prog}: permission denied`);
  });

  test('LSM labels without the LSM: the kernel\'s refusal, AppArmor\'s legacy attribute after its own', async () => {
    const procfs = fs.openSync('/proc', O_PATH | fs.constants.O_DIRECTORY);
    try {
      const apparmor = fs.existsSync('/proc/self/attr/apparmor') ? 'apparmor/exec' : 'exec';
      const r = await stage(plan({ procfsFd: 5, apparmor: 'docker-default' }), { extra: [procfs] });
      expect(errors(r)[0]).toMatch(
        new RegExp(`^process\\.apparmorProfile: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/${apparmor}: `),
      );
      const s = await stage(plan({ procfsFd: 5, execLabel: 'system_u:system_r:container_t:s0' }), { extra: [procfs] });
      expect(errors(s)[0]).toMatch(/^process\.selinuxLabel: can't set process label: write \/proc\/self\/attr\/exec: /);
    } finally {
      fs.closeSync(procfs);
    }
  });

  test('a PLAN the stub cannot trust is refused before anything is applied', async () => {
    const missingArg = encodePlan(plan({ args: [] }));
    expectError(await stage(missingArg), 'PLAN: missing ARG');
    const unknown = Buffer.concat([encodePlan(plan()), Buffer.from([99, 0, 0, 0])]);
    expectError(await stage(unknown), 'PLAN: unknown attribute 99');
    expectError(await stage(encodePlan(plan({ procfsFd: 99 }))), 'PLAN: PROCFS_FD fd 99 is not open');
    expectError(await stage(encodePlan(plan()), { planMsgType: MSG.BOOTSTRAP }), 'expected PLAN, got message type 1');
  });
});

describe('create: READY, the exec fifo, startContainer hooks', () => {
  async function withFifo(p: Partial<StagePlan>, run = true) {
    const dir = openDir('fifo');
    const fifo = path.join(dir, 'exec.fifo');
    // As create makes it: anyone may write, so that a non-root process user can open it.
    expect(spawnSync('mkfifo', ['-m', '0622', fifo]).status).toBe(0);
    const pathFd = fs.openSync(fifo, O_PATH);
    const procfs = fs.openSync('/proc', O_PATH | fs.constants.O_DIRECTORY);
    // `start`: opened for reading once READY came, read (the "0", then an error if any) until EOF at execve.
    // By a child process, so that a stage that never opens the fifo fails the test instead of blocking it.
    let reader: ReturnType<typeof spawn> | undefined;
    let got = Promise.resolve('');
    try {
      const r = await stage(plan({ ready: true, procfsFd: 5, fifoFd: 6, ...p }), {
        extra: [procfs, pathFd],
        onReady: () => {
          if (!run) return;
          const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
          reader = cat;
          got = new Promise((resolve) => {
            let out = '';
            cat.stdout!.on('data', (d: Buffer) => (out += d.toString()));
            cat.on('close', () => resolve(out));
          });
        },
      });
      return { ...r, fifo: await got };
    } finally {
      reader?.kill('SIGKILL');
      fs.closeSync(pathFd);
      fs.closeSync(procfs);
    }
  }

  test('READY once everything that can fail has run, then "0" in the fifo, then the program', async () => {
    const r = await withFifo({ args: ['sh', '-c', 'echo started'] });
    expect(r.messages).toEqual([{ type: MSG.READY, text: '' }]);
    expect(r.fifo).toBe('0');
    expect(r.stdout).toBe('started\n');
  });

  test('a failure before READY is an ERROR message and nothing reaches the fifo', async () => {
    const r = await withFifo({ args: ['/no/such'] }, false);
    expect(errors(r)).toEqual(['exec: "/no/such": stat /no/such: no such file or directory']);
    expect(r.messages.map((m) => m.type)).toEqual([MSG.ERROR]);
  });

  const hook = (over: Partial<StageHook>): StageHook => ({
    name: 'hooks.startContainer[0] (/bin/sh)',
    path: '/bin/sh',
    argv: ['sh', '-c', 'true'],
    env: [],
    timeoutMs: 0,
    timeoutText: '0.0',
    state: '{"status":"created"}',
    ...over,
  });

  test('hooks get the state on stdin, exactly their env and argv, as the process\'s user, before the program', async () => {
    const out = path.join(openDir('hook', 0o777), 'out');
    const r = await withFifo({
      user: { uid: 1000, gid: 1000, groups: [] },
      hooks: [
        hook({ argv: ['first', '-c', `{ tr "\\0" "\\n" </proc/$$/cmdline | head -1; echo "$0"; id -u; tr "\\0" "\\n" </proc/$$/environ; cat; echo; } > ${out}`, 'arg'], env: ['ONLY=this'] }),
        hook({ name: 'hooks.startContainer[1] (/bin/sh)', argv: ['sh', '-c', `echo second >> ${out}`] }),
      ],
      args: ['sh', '-c', `echo program >> ${out}`],
    });
    expect(r.code, JSON.stringify(r)).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('first\narg\n1000\nONLY=this\n{"status":"created"}\nsecond\nprogram\n');
  });

  test.each([
    ['exit status and output', hook({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 7'] }), 'error running hooks.startContainer[0] (/bin/sh): exit status 7, stdout: out\n, stderr: err\n'],
    ['a signal', hook({ argv: ['sh', '-c', 'kill -TERM $$'] }), 'error running hooks.startContainer[0] (/bin/sh): signal: SIGTERM, stdout: , stderr: '],
    ['the timeout', hook({ argv: ['sh', '-c', 'sleep 5'], timeoutMs: 300, timeoutText: '0.3' }), 'error running hooks.startContainer[0] (/bin/sh): hook ran past specified timeout of 0.3s'],
    ['a path that is not there', hook({ path: '/no/hook', name: 'hooks.startContainer[0] (/no/hook)' }), 'error running hooks.startContainer[0] (/no/hook): exec /no/hook: no such file or directory'],
  ])('a failing hook (%s): its error goes into the fifo, the program never runs', async (_n, h, message) => {
    const r = await withFifo({ hooks: [h, hook({ argv: ['sh', '-c', 'echo never'] })], args: ['sh', '-c', 'echo program'] });
    expect(r.code).toBe(1);
    expect(r.fifo).toBe(`0${message}`);
    expect(r.stdout).toBe('');
  });

  test('a hook that never reads a large state, and one that writes a lot', async () => {
    const state = JSON.stringify({ annotations: { big: 'z'.repeat(300_000) } });
    const r = await withFifo({
      hooks: [
        hook({ argv: ['sh', '-c', 'exit 0'], state }),
        hook({ name: 'hooks.startContainer[1] (/bin/sh)', argv: ['sh', '-c', 'head -c 200000 /dev/zero | tr "\\0" a; cat >/dev/null; exit 3'], state }),
      ],
    });
    expect(r.code).toBe(1);
    expect(r.fifo).toMatch(/^0error running hooks\.startContainer\[1\] \(\/bin\/sh\): exit status 3, stdout: a{200000}, stderr: $/);
  });
});
