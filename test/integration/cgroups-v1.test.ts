// cgroup v1 resources for real: each limit enforced inside the container (memory OOM kill, pids, cpuset,
// devices), the host-side cgroup files after create compared with runc's, and `update` compared with runc's.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { BundleOptions } from './helpers/bundle';
import { runBoth, RUNTIMES } from './helpers/differential';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, sh, uniqueId } from './helpers/env';
import { create, del, explain, kill, ok, run, state, type RunResult, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';
import { waitUntil } from './helpers/observe';

const sb = useSandbox();
const V1 = fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

// Runs under a resource limit (an OOM kill, a pids limit) get 30 s instead of run's default 10 s.
const SLOW = { timeoutMs: 30_000 };

type Resources = Record<string, unknown>;
const withResources = (r: Resources, args: string[]): BundleOptions => ({
  args,
  edit: (s) => {
    const linux = (s as unknown as { linux: { resources: Resources } }).linux;
    linux.resources = { ...linux.resources, ...r };
  },
});

// The host-side directory of each hierarchy the process is in.
function cgroupDirs(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m || !m[1] || m[1].startsWith('name=')) continue;
    out[m[1]] = path.join('/sys/fs/cgroup', m[1], m[2]);
  }
  return out;
}

const FILES = [
  'memory/memory.limit_in_bytes',
  'memory/memory.soft_limit_in_bytes',
  'memory/memory.memsw.limit_in_bytes',
  'memory/memory.swappiness',
  'memory/memory.oom_control',
  'cpu/cpu.shares',
  'cpu/cpu.cfs_quota_us',
  'cpu/cpu.cfs_period_us',
  'cpuset/cpuset.cpus',
  'cpuset/cpuset.mems',
  'pids/pids.max',
  'blkio/blkio.throttle.read_bps_device',
  'blkio/blkio.throttle.write_iops_device',
  'devices/devices.list',
];

function readFiles(pid: number): Record<string, string> {
  const dirs = cgroupDirs(pid);
  const out: Record<string, string> = {};
  for (const f of FILES) {
    const [ctl, file] = f.split('/');
    // oom_control also shows live counters; keep the setting only.
    let v = fs.readFileSync(path.join(dirs[ctl], file), 'utf8').trim();
    if (file === 'memory.oom_control') v = v.split('\n')[0];
    out[f] = v;
  }
  return out;
}

// The message of runc's (and ocirun's) last error line.
const errMsg = (r: RunResult): string => {
  const lines = [...r.stderr.matchAll(/level=error msg=("(?:[^"\\]|\\.)*"|\S+)/g)];
  const last = lines.at(-1)?.[1] ?? '';
  return last.startsWith('"') ? (JSON.parse(last) as string) : last;
};

const LOOP0 = (() => {
  try {
    return fs.readFileSync('/sys/block/loop0/dev', 'utf8').trim().split(':').map(Number);
  } catch {
    return undefined;
  }
})();

describe.skipIf(!V1)('cgroup v1 resources', () => {
  test('memory.limit: a memory hog is OOM-killed (exit 137) under both runtimes', () => {
    const mb64 = 64 * 1024 * 1024;
    const pair = runBoth(sb, 'cgv1-oom', withResources({ memory: { limit: mb64, swap: mb64 } }, ['tail', '/dev/zero']), SLOW);
    for (const rt of RUNTIMES) expect(pair[rt].code, `${rt}\n${explain(pair[rt])}`).toBe(137);
  });

  test('pids.limit stops a (bounded) fork bomb', () => {
    const pair = runBoth(sb, 'cgv1-pids', withResources({ pids: { limit: 8 } }, sh('echo started; for i in $(seq 1 40); do sleep 1 & done; wait')), SLOW);
    for (const rt of RUNTIMES) {
      expect(pair[rt].stdout, `${rt}\n${explain(pair[rt])}`).toContain('started');
      expect(pair[rt].stderr, `${rt}\n${explain(pair[rt])}`).toMatch(/can't fork/);
    }
    expect(pair.ocirun.code).toBe(pair.runc.code);
  });

  test('cpu.cpus pins the process (Cpus_allowed_list)', () => {
    const pair = runBoth(sb, 'cgv1-cpuset', withResources({ cpu: { cpus: '1', mems: '0' } }, sh('grep Cpus_allowed_list /proc/self/status')), SLOW);
    for (const rt of RUNTIMES) expect(pair[rt].stdout.trim(), `${rt}\n${explain(pair[rt])}`).toMatch(/^Cpus_allowed_list:\s+1$/);
  });

  test.skipIf(!LOOP0)('a device rule denies a block device node (EPERM), and allowing it lifts the denial', () => {
    const [major, minor] = LOOP0!;
    const withNode = (devices: Resources[]): BundleOptions => ({
      ...withResources({ devices }, sh('head -c1 /blockdev >/dev/null; echo rc=$?')),
      edit: (s) => {
        const linux = (s as unknown as { linux: { resources: Resources } }).linux;
        linux.resources = { ...linux.resources, devices };
      },
    });
    const id = uniqueId('cgv1-dev');
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      sb.track(rt, id);
      const denied = sb.bundle(withNode([{ allow: false, access: 'rwm' }]), `deny-${rtName}`);
      execFileSync('mknod', [path.join(denied.rootfs, 'blockdev'), 'b', String(major), String(minor)]);
      const r = run(rt, ['run', '--bundle', denied.dir, id]);
      expect(r.stderr, `${rtName}\n${explain(r)}`).toMatch(/Operation not permitted/);
      expect(r.stdout).toContain('rc=1');
      const allowed = sb.bundle(withNode([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major, minor, access: 'r' }]), `allow-${rtName}`);
      execFileSync('mknod', [path.join(allowed.rootfs, 'blockdev'), 'b', String(major), String(minor)]);
      const r2 = run(rt, ['run', '--bundle', allowed.dir, id]);
      expect(r2.stderr, `${rtName}\n${explain(r2)}`).not.toMatch(/Operation not permitted/);
    }
  });

  test('differential: the cgroup files after create match runc\'s', () => {
    const mb = 1024 * 1024;
    const resources: Resources = {
      memory: { limit: 96 * mb, reservation: 48 * mb, swap: 128 * mb, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 50 },
      ...(LOOP0 ? { blockIO: { throttleReadBpsDevice: [{ major: LOOP0[0], minor: LOOP0[1], rate: mb }], throttleWriteIOPSDevice: [{ major: LOOP0[0], minor: LOOP0[1], rate: 100 }] } } : {}),
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 64, access: 'rw' }],
    };
    const id = uniqueId('cgv1-files');
    const seen = {} as Record<RuntimeName, Record<string, string>>;
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      sb.track(rt, id);
      const b = sb.bundle(withResources(resources, ['sleep', '60']), `bundle-${rtName}`);
      ok(create(rt, id, b.dir));
      seen[rtName] = readFiles(state(rt, id).pid);
      ok(del(rt, id, true));
    }
    expect(seen.ocirun['cpu/cpu.shares']).toBe('512');
    expect(seen.ocirun['devices/devices.list']).toContain('c 4:64 rw');
    expect(seen.ocirun).toEqual(seen.runc);
  });

  test('differential: update (flags and --resources -), its results and errors match runc\'s', () => {
    const id = uniqueId('cgv1-upd');
    // Steps the kernel refuses come last: after them ocirun and runc hold different values (see below).
    const steps: { args: string[]; input?: string; refused?: boolean }[] = [
      { args: ['--memory', '100m', '--memory-swap', '200m', '--cpu-share', '300', '--pids-limit', '60'] },
      { args: ['--memory', '50m'] },
      { args: ['--cpu-quota', '20000', '--cpu-period', '50000', '--cpuset-cpus', '1'] },
      { args: ['--memory', 'abc'] },
      { args: ['--memory', '1.2.3'] },
      { args: ['--cpu-period', 'x'] },
      { args: ['--cpu-share', '99999999999999999999'] },
      { args: ['--blkio-weight', 'abc'] },
      { args: ['--l3-cache-schema', 'L3:0=f'] },
      { args: ['--kernel-memory', '10m'] },
      { args: ['-r', '-'], input: JSON.stringify({ memory: { limit: 134217728, reservation: 67108864 }, cpu: { shares: 700, cpus: '0' }, pids: { limit: -1 } }) },
      { args: ['-r', '-'], input: JSON.stringify({ unified: { 'memory.high': '1' } }) },
      { args: ['-r', '/nonexistent-resources.json'] },
      { args: ['--memory-swap', '-1', '--memory', '-1'] },
      { args: ['--memory', '300m', '--memory-swap', '250m'], refused: true },
      { args: ['--cpu-share', '1'], refused: true },
    ];
    const seen = {} as Record<RuntimeName, { code: number | null; msg: string; files: Record<string, string> }[]>;
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      sb.track(rt, id);
      const b = sb.bundle({ args: ['sleep', '60'] }, `bundle-${rtName}`);
      ok(create(rt, id, b.dir));
      const pid = state(rt, id).pid;
      seen[rtName] = steps.map((s) => {
        const r = run(rt, ['update', ...s.args, id], { input: s.input });
        return { code: r.code, msg: errMsg(r), files: readFiles(pid) };
      });
      ok(kill(rt, id, 'KILL'));
      // Updating a stopped container is refused.
      for (let i = 0; i < 100 && state(rt, id).status !== 'stopped'; i++) execFileSync('sleep', ['0.05']);
      const stopped = run(rt, ['update', '--memory', '10m', id]);
      seen[rtName].push({ code: stopped.code, msg: errMsg(stopped), files: {} });
      ok(del(rt, id, true));
    }
    expect(seen.ocirun[0].files['memory/memory.limit_in_bytes']).toBe(String(100 * 1024 * 1024));
    for (let i = 0; i < seen.runc.length; i++) {
      const [a, b] = [seen.runc[i], seen.ocirun[i]];
      const label = `step ${i}: ${JSON.stringify(steps[i]?.args ?? 'stopped')}\nrunc: ${a.msg}\nocirun: ${b.msg}`;
      expect(b.code, label).toBe(a.code);
      if (steps[i]?.refused) {
        // A refused update is rolled back from the stored config. runc's stored config has zeros for what
        // earlier updates left out (so e.g. a raised memsw or a clamped cpu.shares stays); ocirun's keeps
        // every value in force, so its rollback restores the files exactly.
        expect(a.code, label).toBe(1);
        expect(b.files, label).toEqual(seen.ocirun[i - 1].files);
        continue;
      }
      expect(b.files, label).toEqual(a.files);
      // Kernel write errors name the OCI field in ocirun (runc names the file); parse errors are runc's text.
      if (!/write|unable to set|cpu-shares/.test(a.msg)) expect(b.msg, label).toBe(a.msg);
    }
  });

  test('a second container joins a cgroup that already holds the first\'s processes; deleting it leaves the first alone', () => {
    // CRI pods share cgroups. runc 1.1 warns on create, and on delete logs that the cgroup is busy but
    // deletes the container (exit 0): the cgroup and the first container stay.
    const seen: Record<string, unknown> = {};
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      const cgroupsPath = `/${uniqueId(`cgv1-shared-${rtName}`)}`;
      const opts: BundleOptions = { args: ['sleep', '60'], edit: (spec) => void (spec.linux!.cgroupsPath = cgroupsPath) };
      const first = sb.track(rt, uniqueId(`cgv1-first-${rtName}`));
      const second = sb.track(rt, uniqueId(`cgv1-second-${rtName}`));
      ok(create(rt, first, sb.bundle(opts, `first-${rtName}`).dir));
      ok(run(rt, ['start', first]));
      const joined = ok(create(rt, second, sb.bundle(opts, `second-${rtName}`).dir));
      ok(run(rt, ['start', second]));
      const procs = fs.readFileSync(path.join('/sys/fs/cgroup/pids', cgroupsPath, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      expect(procs.sort()).toEqual([state(rt, first).pid, state(rt, second).pid].sort());
      ok(kill(rt, second, 'KILL'));
      waitUntil(() => state(rt, second).status === 'stopped', 'second stopped');
      const deleted = del(rt, second);
      seen[rtName] = {
        warned: /container's cgroup is not empty: 1 process\(es\) found/.test(joined.stderr),
        deleteCode: deleted.code,
        secondGone: !ok(run(rt, ['list', '-q'])).stdout.split('\n').includes(second),
        firstRunning: state(rt, first).status,
        cgroupKept: fs.existsSync(path.join('/sys/fs/cgroup/pids', cgroupsPath)),
      };
      ok(del(rt, first, true));
      expect(fs.existsSync(path.join('/sys/fs/cgroup/pids', cgroupsPath)), `${rtName}: cgroup removed with the last container`).toBe(false);
    }
    expect(seen.runc).toEqual({ warned: true, deleteCode: 0, secondGone: true, firstRunning: 'running', cgroupKept: true });
    expect(seen.ocirun).toEqual(seen.runc);
  });

  test('--systemd-cgroup: slice:prefix:name is validated, then mapped to the cgroupfs path with a warning', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId('cgv1-sd');
    sb.track(rt, id);
    const bad = sb.bundle({ args: ['true'], edit: (s) => ((s as unknown as { linux: Resources }).linux.cgroupsPath = 'nocolons') }, 'bad');
    const r = run(rt, ['create', '--bundle', bad.dir, id], { globalArgs: ['--systemd-cgroup'] });
    expect(r.code).toBe(1);
    expect(errMsg(r)).toContain('expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "nocolons" instead');
    const b = sb.bundle({ args: ['sleep', '60'], edit: (s) => ((s as unknown as { linux: Resources }).linux.cgroupsPath = `-.slice:ocirun-test:${id}`) }, 'good');
    const c = run(rt, ['create', '--bundle', b.dir, id], { globalArgs: ['--systemd-cgroup'] });
    expect(c.code, explain(c)).toBe(0);
    expect(c.stderr).toMatch(/level=warning msg=.*systemd cgroup driver not available/);
    expect(cgroupDirs(state(rt, id).pid).pids).toBe(`/sys/fs/cgroup/pids/ocirun-test-${id}.scope`);
    ok(del(rt, id, true));
    expect(fs.existsSync(`/sys/fs/cgroup/pids/ocirun-test-${id}.scope`)).toBe(false);
  });
});
