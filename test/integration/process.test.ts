// config.json `process` (except the terminal) plus linux.personality, memoryPolicy, intelRdt and
// mountLabel: differential against runc where runc 1.1.5 implements a field, the spec's behaviour
// observed from inside the container where it does not, and bad input that must leave nothing behind.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runcSpecTemplate, type BundleOptions, type OciSpec } from './helpers/bundle';
import { expectRan, runBoth, RUNTIMES } from './helpers/differential';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, runtimeEnv, sh, uniqueId } from './helpers/env';
import { expectFailed, expectNothingLeft, messages } from './helpers/observe';
import { create, explain, run, type RunResult } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const TASKSET = '/usr/bin/taskset';

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

function runOcirun(name: string, opts: BundleOptions): RunResult {
  const rt = sb.runtime('ocirun');
  const b = sb.bundle(opts);
  const id = sb.track(rt, uniqueId(name));
  return run(rt, ['run', '--bundle', b.dir, id]);
}

function expectOk(r: RunResult): string {
  expect(r.code, explain(r)).toBe(0);
  return r.stdout;
}

const STATUS = 'grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Umask|Seccomp):"';

/** Fields of /proc/<pid>/stat after the command name, numbered as in proc(5). */
function statField(stat: string, n: number): string {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
  return fields[n - 3] ?? '';
}

function hostLimits(): Map<string, string> {
  // The runtimes inherit this process's limits; a container can lower them but not raise a hard one.
  const out = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
    const m = /^(.*?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out.set(m[1], m[3]);
  }
  return out;
}

const hasCapability = (bit: number): boolean => {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return (BigInt(`0x${eff}`) & (1n << BigInt(bit))) !== 0n;
};
const CAP_SYS_RESOURCE = 24;

const apparmorOn = fs.existsSync('/sys/kernel/security/apparmor');
const selinuxOn = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - selinuxfs ');
const resctrlOn = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl ');

describe('differential: identity, environment and limits', () => {
  test('root with the default spec: status, id, umask, cwd, env, oom_score_adj', () => {
    const p = runBoth(sb, 'proc-default', {
      args: sh(`${STATUS} /proc/1/status; ${STATUS} /proc/self/status; id; umask; pwd; env | sort; cat /proc/self/oom_score_adj`),
    });
    expectRan(p, [/^Uid:\t0\t0\t0\t0$/m, /^CapBnd:\t0{8}20000420$/m, /^NoNewPrivs:\t1$/m, /^Umask:\t0022$/m, 'uid=0(root)', 'HOME=/root\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('a uid without an /etc/passwd entry, additionalGids and a umask', () => {
    const p = runBoth(sb, 'proc-nopasswd', {
      user: { uid: 4242, gid: 4343, additionalGids: [10, 65534, 77], umask: 0o077 },
      args: sh(`${STATUS} /proc/self/status; id; umask; env | sort; touch /dev/shm/f && stat -c %a /dev/shm/f`),
    });
    expectRan(p, [/^Uid:\t4242\t4242\t4242\t4242$/m, /^Groups:\t10 77 65534 ?$/m, 'HOME=/\n', /^0077$/m, /^600$/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('a uid from /etc/passwd gets its home directory and no extra groups', () => {
    const p = runBoth(sb, 'proc-passwd', { user: { uid: 1000, gid: 1000 }, args: sh(`${STATUS} /proc/self/status; id; env | sort`) });
    expectRan(p, ['uid=1000(user) gid=1000(user)', 'HOME=/home/user\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('all five capability sets for a non-root user, ambient raised only where inheritable', () => {
    const caps = (...n: string[]) => n.map((c) => `CAP_${c}`);
    const p = runBoth(sb, 'proc-caps5', {
      user: { uid: 1000, gid: 1000 },
      // The first grep reads the shell the runtime started; the second, which the shell execs as
      // its last command, shows what a further exec keeps.
      args: sh(`${STATUS} /proc/1/status; ${STATUS} /proc/self/status`),
      edit: (s) => {
        s.process.noNewPrivileges = false;
        s.process.capabilities = {
          bounding: caps('CHOWN', 'DAC_OVERRIDE', 'KILL', 'NET_BIND_SERVICE', 'SETPCAP', 'SYS_ADMIN', 'CHECKPOINT_RESTORE'),
          permitted: caps('CHOWN', 'KILL', 'NET_BIND_SERVICE', 'SETPCAP', 'CHECKPOINT_RESTORE'),
          effective: caps('KILL', 'NET_BIND_SERVICE'),
          inheritable: caps('CHOWN', 'NET_BIND_SERVICE', 'SYS_ADMIN'),
          ambient: caps('NET_BIND_SERVICE', 'CHOWN', 'KILL'),
        };
      },
    });
    // CHOWN (0) and NET_BIND_SERVICE (10) are ambient; KILL is not inheritable, so it cannot be.
    expectRan(p, [/^CapAmb:\t0000000000000401$/m, /^CapBnd:\t0000010000200523$/m, /^NoNewPrivs:\t0$/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('root keeps exactly the sets given, and no ambient set without inheritable', () => {
    const p = runBoth(sb, 'proc-caps-root', {
      args: ['grep', '-E', '^Cap', '/proc/self/status'],
      edit: (s) => {
        s.process.capabilities = { bounding: ['CAP_SYS_ADMIN', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], ambient: ['CAP_KILL'] };
      },
    });
    // Under no_new_privs (the template's default) root's exec cannot gain its bounding set back.
    expectRan(p, [/^CapEff:\t0000000000000020$/m, /^CapBnd:\t0000000000200020$/m, /^CapAmb:\t0000000000000000$/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('every RLIMIT_* type in /proc/self/limits, unlimited written as 2^64-1', () => {
    const host = hostLimits();
    const INF = 18446744073709551615;
    const hard = (row: string): number => (host.get(row) === 'unlimited' ? INF : Number(host.get(row)));
    // [type, /proc/self/limits row, a soft value below any sane hard limit]
    const table: [string, string, number][] = [
      ['RLIMIT_CPU', 'Max cpu time', 3600],
      ['RLIMIT_FSIZE', 'Max file size', 2 ** 30],
      ['RLIMIT_DATA', 'Max data size', 2 ** 33],
      ['RLIMIT_STACK', 'Max stack size', 8 * 2 ** 20],
      ['RLIMIT_CORE', 'Max core file size', 0],
      ['RLIMIT_RSS', 'Max resident set', 2 ** 30],
      ['RLIMIT_NPROC', 'Max processes', 4096],
      ['RLIMIT_NOFILE', 'Max open files', 1000],
      ['RLIMIT_MEMLOCK', 'Max locked memory', 65536],
      ['RLIMIT_AS', 'Max address space', 2 ** 34],
      ['RLIMIT_LOCKS', 'Max file locks', 1000],
      ['RLIMIT_SIGPENDING', 'Max pending signals', 100],
      ['RLIMIT_MSGQUEUE', 'Max msgqueue size', 8192],
      ['RLIMIT_NICE', 'Max nice priority', 0],
      ['RLIMIT_RTPRIO', 'Max realtime priority', 0],
      ['RLIMIT_RTTIME', 'Max realtime timeout', 1_000_000],
    ];
    const spec = runcSpecTemplate();
    spec.process.args = ['cat', '/proc/self/limits'];
    spec.process.rlimits = table.map(([type, row, soft]) => ({ type, hard: hard(row), soft: Math.min(soft, hard(row)) }));
    // JavaScript prints 2^64-1 as 18446744073709552000, which Go refuses as a uint64; write it as runc users do.
    const rawConfig = JSON.stringify(spec, null, 2).replaceAll('18446744073709552000', '18446744073709551615');
    expect(rawConfig).toContain(': 18446744073709551615');
    const p = runBoth(sb, 'proc-limits', { rawConfig });
    expectRan(p, [/^Max cpu time +3600 /m, /^Max open files +1000 /m, /^Max pending signals +100 /m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('raising a hard limit needs CAP_SYS_RESOURCE: both refuse it without, both allow it with', () => {
    const nofile = Number(hostLimits().get('Max open files'));
    expect(Number.isFinite(nofile), 'the host has a finite hard RLIMIT_NOFILE').toBe(true);
    const p = runBoth(sb, 'proc-rlimit-raise', {
      args: sh('ulimit -Hn'),
      edit: (s) => {
        s.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: nofile + 1, soft: 1024 }];
      },
    });
    if (hasCapability(CAP_SYS_RESOURCE)) {
      expectRan(p, [`${nofile + 1}\n`]);
    } else {
      expectFailed(p.runc, 'error setting rlimit type 7: operation not permitted');
      expectFailed(p.ocirun, 'process.rlimits[0] (RLIMIT_NOFILE): error setting rlimit type 7: operation not permitted');
    }
  });

  test('a soft limit above the hard one is refused by both', () => {
    const p = runBoth(sb, 'proc-rlimit-inverted', {
      edit: (s) => {
        s.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 100, soft: 200 }];
      },
    });
    expectFailed(p.runc, 'error setting rlimit type 7: invalid argument');
    expectFailed(p.ocirun, 'error setting rlimit type 7: invalid argument');
  });

  test('RLIMIT_NPROC below the user\'s thread count still lets the process exec', () => {
    // The kernel flags a thread that setuid()s into a user already at the limit, and execve then fails;
    // the init's other threads must not count against the one that execs.
    const p = runBoth(sb, 'proc-nproc', {
      user: { uid: 1000, gid: 1000 },
      args: sh('ulimit -u; echo ran'),
      edit: (s) => {
        s.process.rlimits = [{ type: 'RLIMIT_NPROC', hard: 1, soft: 1 }];
      },
    });
    expectRan(p, ['1\nran\n']);
  });

  test('oomScoreAdj: raised by both; lowered only with CAP_SYS_RESOURCE', () => {
    const up = runBoth(sb, 'proc-oom-up', {
      args: sh('cat /proc/self/oom_score_adj'),
      edit: (s) => {
        s.process.oomScoreAdj = 500;
      },
    });
    expectRan(up, ['500\n']);
    const down = runBoth(sb, 'proc-oom-down', {
      args: sh('cat /proc/self/oom_score_adj'),
      edit: (s) => {
        s.process.oomScoreAdj = -500;
      },
    });
    if (hasCapability(CAP_SYS_RESOURCE)) expectRan(down, ['-500\n']);
    else for (const rtName of RUNTIMES) expectFailed(down[rtName]);
  });

  test('environment: a repeated name keeps its last value, an empty HOME is replaced', () => {
    const p = runBoth(sb, 'proc-env', {
      env: ['PATH=/bin', 'A=1', 'B=two words', 'A=3', 'HOME=', 'EMPTY='],
      args: sh('env | sort'),
    });
    expectRan(p, ['A=3\n', 'HOME=/root\n', 'EMPTY=\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
    expect(p.ocirun.stdout.match(/^A=/gm)).toHaveLength(1);
  });

  test('cwd: created with its parents (mode 755) when missing', () => {
    const p = runBoth(sb, 'proc-cwd-create', {
      cwd: '/does/not/exist',
      args: sh('pwd; stat -c "%a %u" /does/not/exist /does'),
    });
    expectRan(p, ['/does/not/exist\n755 0\n755 0\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('cwd only root may enter: entered before the user switch, as runc does', () => {
    const p = runBoth(sb, 'proc-cwd-root', {
      cwd: '/rootonly',
      user: { uid: 1000, gid: 1000 },
      args: sh('pwd; ls . 2>/dev/null || echo unreadable'),
      edit: (s) => {
        // A directory the rootfs does not have: runc gives an existing one's mode to a tmpfs over it.
        s.mounts = [...(s.mounts ?? []), { destination: '/rootonly', type: 'tmpfs', source: 'tmpfs', options: ['mode=700'] }];
      },
    });
    expectRan(p, ['/rootonly\nunreadable\n']);
  });

  test('a cwd of mode 700 owned by the user', () => {
    const p = runBoth(sb, 'proc-cwd-user', {
      cwd: '/home/user/private',
      user: { uid: 1000, gid: 1000 },
      args: sh('pwd; touch x && echo wrote'),
      edit: (s) => {
        s.mounts = [...(s.mounts ?? []), { destination: '/home/user/private', type: 'tmpfs', source: 'tmpfs', options: ['mode=700', 'uid=1000'] }];
      },
    });
    expectRan(p, ['/home/user/private\nwrote\n']);
  });

  test('cwd naming a file fails in both', () => {
    const p = runBoth(sb, 'proc-cwd-file', { cwd: '/etc/passwd' });
    expectFailed(p.runc, 'not a directory');
    expectFailed(p.ocirun, 'not a directory');
  });

  test('exit status of the process is the exit status of run', () => {
    const p = runBoth(sb, 'proc-exit', { args: sh('echo out; exit 42') });
    expectRan(p, ['out\n'], 42);
  });

  test('a program the user may not execute fails create in both, not start', () => {
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      const b = sb.bundle({ user: { uid: 1000, gid: 1000 }, args: ['/bin/private-sh', '-c', 'true'] }, `bundle-${rtName}`);
      fs.copyFileSync('/bin/busybox', path.join(b.rootfs, 'bin', 'private-sh'));
      fs.chmodSync(path.join(b.rootfs, 'bin', 'private-sh'), 0o700);
      const id = sb.track(rt, uniqueId('proc-noexec-perm'));
      expectFailed(create(rt, id, b.dir), 'exec /bin/private-sh: permission denied');
      expect(fs.existsSync(path.join(rt.root, id)), `${rtName} left its state dir`).toBe(false);
    }
  });

  test('a program that is missing, a directory or without execute bits: create fails with runc\'s words', () => {
    // Engines classify these (podman: "permission denied" is its permission error, 126; "no such file or
    // directory" is 127), so the text is part of the interface.
    const cases: [string, string][] = [
      ['/nonexistent', 'exec: "/nonexistent": stat /nonexistent: no such file or directory'],
      ['/etc', 'exec: "/etc": permission denied'],
      ['/etc/passwd', 'exec: "/etc/passwd": permission denied'],
    ];
    for (const rtName of RUNTIMES) {
      for (const [prog, words] of cases) {
        const rt = sb.runtime(rtName);
        const b = sb.bundle({ args: [prog] }, `bundle-${rtName}-${path.basename(prog)}`);
        const id = sb.track(rt, uniqueId('proc-noexec-words'));
        expectFailed(create(rt, id, b.dir), words);
        expect(fs.existsSync(path.join(rt.root, id)), `${rtName} left its state dir`).toBe(false);
      }
    }
  });
});

// runc 1.1.5 predates process.scheduler, process.ioPriority, linux.memoryPolicy and the effective use of
// linux.personality (it parses them and does nothing: checked by hand, SCHED_BATCH stays policy 0, LINUX32
// leaves the persona 0), so these assert the spec's behaviour as seen from inside the container.
describe('spec behaviour runc 1.1.5 does not implement', () => {
  const stat = (opts: BundleOptions, name: string): string => expectOk(runOcirun(name, { ...opts, args: ['cat', '/proc/self/stat'] }));

  test('scheduler: SCHED_BATCH with a nice value', () => {
    const s = stat({ edit: (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 }) }, 'sched-batch');
    expect([statField(s, 41), statField(s, 19)]).toEqual(['3', '7']);
  });

  test('scheduler: SCHED_IDLE', () => {
    const s = stat({ edit: (c) => (c.process.scheduler = { policy: 'SCHED_IDLE' }) }, 'sched-idle');
    expect(statField(s, 41)).toBe('5');
  });

  test('scheduler: SCHED_OTHER with a negative nice and SCHED_FLAG_RESET_ON_FORK', () => {
    const out = expectOk(
      runOcirun('sched-reset', {
        // busybox sh execs its last command, so only the first cat is a child of pid 1.
        args: sh('cat /proc/self/stat; cat /proc/1/stat'),
        edit: (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] }),
      }),
    );
    const [child, pid1] = out.trim().split('\n');
    expect(statField(pid1, 19)).toBe('-5');
    // The child of a reset-on-fork task starts again at nice 0.
    expect(statField(child, 19)).toBe('0');
  });

  test('scheduler: SCHED_DEADLINE with runtime, deadline and period', () => {
    const s = stat(
      { edit: (c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10_000_000, deadline: 30_000_000, period: 30_000_000 }) },
      'sched-deadline',
    );
    expect(statField(s, 41)).toBe('6');
  });

  test('scheduler: SCHED_FIFO gets its priority, or the kernel\'s refusal when the cgroup has no real-time budget', () => {
    const r = runOcirun('sched-fifo', { args: ['cat', '/proc/self/stat'], edit: (c) => (c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 }) });
    // With CONFIG_RT_GROUP_SCHED a new cpu cgroup starts with cpu.rt_runtime_us = 0 (no resources are set here).
    if (fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) {
      expectFailed(r, 'process.scheduler: error setting scheduler: operation not permitted');
    } else {
      const s = expectOk(r);
      expect([statField(s, 41), statField(s, 40)]).toEqual(['1', '10']);
    }
  });

  test.each([
    ['IOPRIO_CLASS_IDLE', 0, 'idle'],
    ['IOPRIO_CLASS_BE', 6, 'best-effort: prio 6'],
    ['IOPRIO_CLASS_RT', 3, 'realtime: prio 3'],
  ])('ioPriority %s %i, read back with ioprio_get (busybox ionice)', (cls, priority, shown) => {
    const out = expectOk(runOcirun(`ioprio-${priority}`, { args: ['ionice'], edit: (c) => (c.process.ioPriority = { class: cls, priority }) }));
    expect(out).toBe(`${shown}\n`);
  });

  test('ioPriority unset leaves the default', () => {
    expect(expectOk(runOcirun('ioprio-none', { args: ['ionice'] }))).toBe('none: prio 0\n');
  });

  test.each([
    ['LINUX32', '00000008\ni686\n'],
    ['LINUX', '00000000\nx86_64\n'],
  ])('personality %s: /proc/self/personality and uname -m', (domain, expected) => {
    const out = expectOk(runOcirun(`persona-${domain}`, { args: sh('cat /proc/self/personality; uname -m'), edit: (c) => (c.linux!.personality = { domain }) }));
    expect(out).toBe(expected);
  });

  test('personality flags are ignored with runc 1.2\'s warning', () => {
    const r = runOcirun('persona-flags', {
      args: ['cat', '/proc/self/personality'],
      edit: (c) => (c.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] }),
    });
    expect(expectOk(r)).toBe('00000008\n');
    expect(messages(r.stderr)).toContain('ignoring unsupported personality flags: [ADDR_NO_RANDOMIZE] because personality flag has not supported at this time');
  });

  test.each([
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0'],
    [{ mode: 'MPOL_PREFERRED', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }, 'prefer=relative:0'],
    [{ mode: 'MPOL_PREFERRED_MANY', nodes: '0' }, 'prefer (many):0'],
    [{ mode: 'MPOL_LOCAL' }, 'local'],
    [{ mode: 'MPOL_DEFAULT' }, 'default'],
  ])('memoryPolicy %j in /proc/self/numa_maps', (policy, shown) => {
    const out = expectOk(
      runOcirun('mempolicy', {
        args: sh('head -n 1 /proc/self/numa_maps | sed "s/^[0-9a-f]* //; s/ file=.*//"'),
        edit: (c) => (c.linux!.memoryPolicy = policy),
      }),
    );
    expect(out).toBe(`${shown}\n`);
  });
});

// runc 1.2 resets the init's affinity after it joins the cgroups (Linux 6.2+ keeps the parent's mask
// across a cpuset move), and applies execCPUAffinity to `runc exec` only, as the spec says. runc 1.1.5
// does neither, so the init would keep the runtime's `taskset`: no runc comparison here.
describe('CPU affinity of the init', () => {
  const cpus = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const multi = cpus !== '0';

  function runPinned(name: string, edit?: (s: OciSpec) => void): RunResult {
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({ args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], edit });
    const id = sb.track(rt, uniqueId(name));
    const r = spawnSync(TASKSET, ['-c', '0', rt.bin, '--root', rt.root, 'run', '--bundle', b.dir, id], {
      encoding: 'utf8',
      env: runtimeEnv(),
      input: '',
      timeout: 20_000,
    });
    return { argv: [TASKSET, rt.bin, 'run', id], code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: false };
  }

  test.skipIf(!multi)('a runtime pinned to CPU 0 still starts the container on every CPU its cpuset has', () => {
    requireBinaries(TASKSET);
    expect(expectOk(runPinned('affinity-reset'))).toBe(`Cpus_allowed_list:\t${cpus}\n`);
  });

  test.skipIf(!multi)('execCPUAffinity does not apply to the init process', () => {
    requireBinaries(TASKSET);
    const out = expectOk(runPinned('affinity-exec', (s) => (s.process.execCPUAffinity = { initial: '1', final: '1' })));
    expect(out).toBe(`Cpus_allowed_list:\t${cpus}\n`);
  });
});

describe('LSM and Intel RDT on a host without them', () => {
  test.skipIf(apparmorOn)('apparmorProfile: both fail writing the profile to attr/exec', () => {
    const p = runBoth(sb, 'lsm-apparmor', { edit: (s) => (s.process.apparmorProfile = 'docker-default') });
    const why = 'unable to apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/exec: invalid argument';
    expectFailed(p.runc, why);
    expectFailed(p.ocirun, `process.apparmorProfile: ${why}`);
  });

  test.skipIf(selinuxOn)('selinuxLabel: both refuse it before starting', () => {
    const p = runBoth(sb, 'lsm-selinux', { edit: (s) => (s.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2') });
    const why = 'selinux label is specified in config, but selinux is disabled or not supported';
    expectFailed(p.runc, why);
    expectFailed(p.ocirun, `process.selinuxLabel: ${why}`);
  });

  test.skipIf(selinuxOn)('mountLabel: runc fails on its first labelled mount, ocirun says why up front', () => {
    const p = runBoth(sb, 'lsm-mountlabel', { edit: (s) => (s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0') });
    expectFailed(p.runc, 'context="system_u:object_r:container_file_t:s0": invalid argument');
    expectFailed(p.ocirun, 'linux.mountLabel: selinux mount label is specified in config, but selinux is disabled or not supported');
  });

  test.skipIf(resctrlOn)('intelRdt schemas: both refuse them with the same words', () => {
    const p = runBoth(sb, 'rdt-l3', { edit: (s) => (s.linux!.intelRdt = { closID: 'x', l3CacheSchema: 'L3:0=f' }) });
    const why = 'intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled';
    expectFailed(p.runc, why);
    expectFailed(p.ocirun, why);
  });

  test.skipIf(resctrlOn)('intelRdt closID alone: ocirun refuses it', () => {
    // runc 1.1.5 starts the container outside any resctrl group; the spec wants it in one (closID's
    // directory, or the container id), which a host without resctrl cannot provide.
    expectFailed(
      runOcirun('rdt-closid', { edit: (s) => (s.linux!.intelRdt = { closID: 'guaranteed' }) }),
      'linux.intelRdt: intelRdt is specified in config, but Intel RDT is not supported or enabled',
    );
  });
});

describe('bad input: a clear error naming the field, nothing left behind', () => {
  const cases: [string, (s: OciSpec) => void, string][] = [
    ['unknown rlimit', (s) => s.process.rlimits!.push({ type: 'RLIMIT_BOGUS', hard: 1, soft: 1 }), 'process.rlimits[1].type: unknown rlimit "RLIMIT_BOGUS"'],
    // runc 1.1.5 lets the last entry win; the spec says a duplicate MUST be an error.
    ['duplicate rlimit', (s) => s.process.rlimits!.push({ type: 'RLIMIT_CORE', hard: 0, soft: 0 }, { type: 'RLIMIT_NOFILE', hard: 512, soft: 512 }), 'process.rlimits[2].type: duplicate rlimit "RLIMIT_NOFILE"'],
    // runc 1.1.5 only warns; the spec says a value that cannot be mapped MUST be an error.
    ['capability typo', (s) => s.process.capabilities!.effective.push('CAP_NET_BIND_SERVCE'), 'process.capabilities.effective[3]: unknown capability "CAP_NET_BIND_SERVCE"'],
    ['relative cwd', (s) => (s.process.cwd = 'tmp'), 'process.cwd: must be an absolute path'],
    ['env entry without "="', (s) => (s.process.env = ['PATH=/bin', 'JUSTANAME']), 'process.env[1]: invalid environment variable "JUSTANAME"'],
    ['unknown scheduler policy', (s) => (s.process.scheduler = { policy: 'SCHED_FAST' }), 'process.scheduler.policy: unknown scheduler policy "SCHED_FAST"'],
    ['priority without a real-time policy', (s) => (s.process.scheduler = { policy: 'SCHED_BATCH', priority: 5 }), 'process.scheduler.priority: only valid with SCHED_FIFO or SCHED_RR'],
    ['bad ioPriority class', (s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_NONE', priority: 0 }), 'process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_NONE"'],
    ['bad personality domain', (s) => (s.linux!.personality = { domain: 'LINUX64' }), 'linux.personality.domain: unknown personality domain "LINUX64"'],
    ['bad memoryPolicy mode', (s) => (s.linux!.memoryPolicy = { mode: 'MPOL_FASTEST', nodes: '0' }), 'linux.memoryPolicy.mode: unknown memory policy mode "MPOL_FASTEST"'],
    ['memoryPolicy nodes for MPOL_DEFAULT', (s) => (s.linux!.memoryPolicy = { mode: 'MPOL_DEFAULT', nodes: '0-7' }), 'linux.memoryPolicy.nodes: MPOL_DEFAULT mode requires 0 nodes but got 8'],
    ['execCPUAffinity syntax', (s) => (s.process.execCPUAffinity = { initial: '0-', final: '1' }), 'process.execCPUAffinity.initial: invalid CPU list element "0-"'],
  ];
  test.each(cases)('%s', (name, edit, why) => {
    for (const verb of ['create', 'run'] as const) {
      const rt = sb.runtime('ocirun');
      const b = sb.bundle({ args: ['true'], edit }, `bundle-${verb}`);
      const id = sb.track(rt, uniqueId(`bad-${name.replace(/\W+/g, '-')}-${verb}`));
      expectFailed(verb === 'create' ? create(rt, id, b.dir) : run(rt, ['run', '--bundle', b.dir, id]), why);
      expectNothingLeft(rt, id, b.dir);
    }
  });

  // These fail inside the init, after mounts, cgroups and namespaces exist: all of it must be undone.
  function failsLate(name: string, edit: (s: OciSpec) => void, why: string): void {
    for (const verb of ['create', 'run'] as const) {
      const rt = sb.runtime('ocirun');
      const b = sb.bundle({ args: ['true'], edit }, `bundle-${verb}`);
      const id = sb.track(rt, uniqueId(`late-${name}-${verb}`));
      expectFailed(verb === 'create' ? create(rt, id, b.dir) : run(rt, ['run', '--bundle', b.dir, id]), why);
      expectNothingLeft(rt, id, b.dir);
    }
  }

  test.skipIf(apparmorOn)('apparmorProfile while AppArmor is off', () => {
    failsLate('apparmor', (s) => (s.process.apparmorProfile = 'docker-default'), 'process.apparmorProfile: unable to apply apparmor profile');
  });

  test.skipIf(selinuxOn)('selinuxLabel while SELinux is off', () => {
    failsLate('selinux', (s) => (s.process.selinuxLabel = 'system_u:system_r:container_t:s0'), 'process.selinuxLabel: selinux label is specified in config');
  });

  test.skipIf(fs.existsSync('/sys/devices/system/node/node5'))('memoryPolicy naming a node the host lacks', () => {
    failsLate('mempolicy', (s) => (s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '5' }), 'linux.memoryPolicy: set_mempolicy: invalid argument');
  });

  test('a scheduler policy the kernel lacks (SCHED_ISO)', () => {
    failsLate('sched-iso', (s) => (s.process.scheduler = { policy: 'SCHED_ISO' }), 'process.scheduler: error setting scheduler: invalid argument');
  });
});
