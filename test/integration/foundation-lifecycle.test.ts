// Process and state handling under both runtimes: signal forwarding by a foreground run, kill --all,
// clean rollback of a create that fails half-way, and concurrent deletes of one container.
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BundleOptions, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, uniqueId, requireBinaries, sh } from './helpers/env';
import { scanCgroups, scanMounts } from './helpers/leftovers';
import {
  cgroupDirOf,
  cgroupProcs,
  isAlive,
  messages,
  runAsync,
  runtimeInits,
  runWatched,
  strayInits,
  waitUntil,
} from './helpers/observe';
import { create, del, explain, kill, listIds, ok, run, sleepMs, state, waitForStatus, type RunResult, type Runtime, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

function withSysctl(key: string): (spec: OciSpec) => void {
  return (spec) => {
    spec.linux!.sysctl = { [key]: '1' };
  };
}

/** Without a pid namespace, killing init does not take its children along, so `kill --all` is observable. */
function noPidNs(spec: OciSpec): void {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
}

describe('foreground run forwards signals', () => {
  test.each(RUNTIMES)('%s: SIGTERM to `run` reaches the container, whose exit code 42 becomes run\'s', async (name) => {
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`fnd-sig-${name}`));
    const b = sb.bundle({ args: sh('trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done') });
    const w = runWatched(rt, ['run', '--bundle', b.dir, id]);
    try {
      await w.waitForStdout('ready\n');
      process.kill(w.pid, 'SIGTERM');
      const r = await w.done;
      expect(r.code, explain(r)).toBe(42);
      expect(r.signal, explain(r)).toBeNull();
      expect(r.stdout, explain(r)).toBe('ready\ngot TERM\n');
      // run deletes the container once its process has exited.
      expect(listIds(rt)).toEqual([]);
    } finally {
      await w.stop();
    }
  });
});

describe('kill --all', () => {
  function startFamily(rt: Runtime, id: string): { init: number; cgroup: string; members: number[] } {
    const b = sb.bundle({ args: sh('sleep 100 & sleep 100 & wait'), edit: noPidNs });
    ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
    const init = state(rt, id).pid;
    const cgroup = cgroupDirOf(init, 'pids');
    // The shell forks its two sleeps asynchronously after run -d returns.
    waitUntil(() => cgroupProcs(cgroup).length === 3, `3 processes in ${cgroup}`);
    return { init, cgroup, members: cgroupProcs(cgroup) };
  }

  test.each(RUNTIMES)('%s: kill --all KILL empties the cgroup and the container becomes stopped', (name) => {
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`fnd-killall-${name}`));
    const { cgroup, members } = startFamily(rt, id);
    ok(kill(rt, id, 'KILL', ['--all']));
    waitUntil(() => cgroupProcs(cgroup).length === 0, `${cgroup} to empty`);
    for (const pid of members) expect(isAlive(pid), `pid ${pid} survived kill --all`).toBe(false);
    waitForStatus(rt, id, 'stopped');
    ok(del(rt, id));
    expect(fs.existsSync(cgroup), `${cgroup} left after delete`).toBe(false);
  });

  test.each(RUNTIMES)('%s: control: kill without --all leaves the children, delete then removes them', (name) => {
    // Proves the --all test above is not passing just because killing init was enough.
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`fnd-killinit-${name}`));
    const { init, cgroup, members } = startFamily(rt, id);
    ok(kill(rt, id, 'KILL'));
    waitUntil(() => !isAlive(init), 'init to die');
    waitForStatus(rt, id, 'stopped');
    const children = members.filter((p) => p !== init);
    expect(children).toHaveLength(2);
    for (const pid of children) expect(isAlive(pid), `child ${pid} died with init`).toBe(true);
    // runc's delete of a stopped container without its own pid namespace kills what is left in the cgroup.
    ok(del(rt, id));
    waitUntil(() => children.every((p) => !isAlive(p)), 'children to be killed by delete');
    expect(fs.existsSync(cgroup), `${cgroup} left after delete`).toBe(false);
  });
});

describe('a create that fails half-way leaves nothing', () => {
  /** Every trace a runtime could leave, checked before the sandbox's own delete --force could hide one. */
  function expectNothingLeft(rt: Runtime, id: string, bundleDir: string, initsBefore: Set<number>): void {
    expect(fs.existsSync(path.join(rt.root, id)), `state dir of ${rt.name} left`).toBe(false);
    expect(listIds(rt)).toEqual([]);
    expect(scanCgroups([id]), `${rt.name} left cgroups`).toEqual([]);
    expect(scanMounts(bundleDir), `${rt.name} left mounts`).toEqual([]);
    // A killed init may take a moment to be reaped; zombies count as gone.
    let stray = strayInits(initsBefore, id, bundleDir);
    const deadline = Date.now() + 2_000;
    while (stray.length > 0 && Date.now() < deadline) {
      sleepMs(50);
      stray = strayInits(initsBefore, id, bundleDir);
    }
    expect(stray, `${rt.name} left init processes`).toEqual([]);
  }

  const CASES: { name: string; opts: BundleOptions; expected: RegExp[] }[] = [
    {
      name: 'bind mount of a missing source',
      opts: {
        args: ['true'],
        extraMounts: [{ destination: '/mnt', type: 'bind', source: '/nonexistent-xyz', options: ['rbind'] }],
      },
      // runc: error mounting "/nonexistent-xyz" to rootfs at "/mnt": stat /nonexistent-xyz: no such file or directory
      expected: [/\/nonexistent-xyz/, /\/mnt/, /no such file or directory/i],
    },
    {
      name: 'args[0] missing from the rootfs',
      opts: { args: ['nope'] },
      expected: [/exec: "nope": executable file not found in \$PATH/],
    },
    {
      // net.* is namespaced (the default spec has a network namespace), so runc accepts the
      // key and only fails in init when /proc/sys has no such file: the late-failure path.
      name: 'namespaced sysctl key that does not exist',
      opts: { args: ['true'], edit: withSysctl('net.nonexistent.xyz') },
      // runc: error during container init: open /proc/sys/net/nonexistent/xyz: no such file or directory
      expected: [/\/proc\/sys\/net\/nonexistent\/xyz/, /no such file or directory/i],
    },
  ];

  for (const c of CASES) {
    test.each(RUNTIMES)(`${c.name}: %s fails with exit 1 and leaves no state, cgroup, mount or init`, (name) => {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`fnd-fail-${name}`));
      const b = sb.bundle(c.opts);
      const before = new Set(runtimeInits());
      const r = create(rt, id, b.dir);
      expect(r.code, explain(r)).toBe(1);
      const text = messages(r.stderr);
      for (const e of c.expected) expect(text, explain(r)).toMatch(e);
      expectNothingLeft(rt, id, b.dir, before);
    });
  }

  test.each(RUNTIMES)('non-namespaced sysctl key: %s fails and leaves nothing', (name) => {
    const rt = sb.runtime(name);
    const id = sb.track(rt, uniqueId(`fnd-sysctl-${name}`));
    const b = sb.bundle({ args: ['true'], edit: withSysctl('kernel.nonexistent_xyz') });
    const before = new Set(runtimeInits());
    const r = create(rt, id, b.dir);
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr), explain(r)).toContain('kernel.nonexistent_xyz');
    expectNothingLeft(rt, id, b.dir, before);
  });

  // Regression (was a bug): runc validates sysctl keys before creating anything and rejects a key outside the
  // container's namespaces with `sysctl "kernel.nonexistent_xyz" is not in a separate kernel
  // namespace` (also for existing keys like vm.swappiness). ocirun has no such check; it
  // starts the init, which fails writing /proc/sys: "unable to start container process:
  // linux.sysctl kernel.nonexistent_xyz: ENOENT: no such file or directory, open '/proc/sys/kernel/nonexistent_xyz'".
  test('non-namespaced sysctl key: ocirun rejects it with runc\'s wording', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('fnd-sysctl-wording'));
    const b = sb.bundle({ args: ['true'], edit: withSysctl('kernel.nonexistent_xyz') });
    const r = create(rt, id, b.dir);
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr), explain(r)).toContain('sysctl "kernel.nonexistent_xyz" is not in a separate kernel namespace');
  });

  test('control: runc applies a valid namespaced sysctl', () => {
    const rt = sb.runtime('runc');
    const id = sb.track(rt, uniqueId('fnd-sysctl-ok-runc'));
    const b = sb.bundle({
      args: ['cat', '/proc/sys/net/ipv4/ip_forward'],
      edit: withSysctl('net.ipv4.ip_forward'),
    });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe('1\n');
  });

  // Regression (was a bug): ocirun writes linux.sysctl after /proc/sys has been made read-only (readonlyPaths),
  // so every sysctl fails: "unable to start container process: linux.sysctl
  // net.ipv4.ip_forward: EROFS: read-only file system, open '/proc/sys/net/ipv4/ip_forward'".
  // runc writes sysctls before applying readonlyPaths.
  test('ocirun applies a valid namespaced sysctl like runc', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('fnd-sysctl-ok-ocirun'));
    const b = sb.bundle({
      args: ['cat', '/proc/sys/net/ipv4/ip_forward'],
      edit: withSysctl('net.ipv4.ip_forward'),
    });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe('1\n');
  });
});

describe('concurrent delete --force', () => {
  test.each(RUNTIMES)('%s: two racing deletes of one created container both exit 0 and leave nothing', async (name) => {
    const rt = sb.runtime(name);
    // A few rounds, because a single race can fall either way.
    for (let round = 0; round < 3; round++) {
      const id = sb.track(rt, uniqueId(`fnd-race${round}-${name}`));
      const b = sb.bundle({ args: ['sleep', '60'] });
      ok(create(rt, id, b.dir));
      const init = state(rt, id).pid;
      const cgroup = cgroupDirOf(init, 'pids');
      const results: RunResult[] = await Promise.all([
        runAsync(rt, ['delete', '--force', id]),
        runAsync(rt, ['delete', '--force', id]),
      ]);
      for (const r of results) {
        expect(r.code, explain(r)).toBe(0);
        expect(r.stderr, explain(r)).not.toMatch(/level=error/);
      }
      waitUntil(() => !isAlive(init), `init ${init} to die`);
      expect(fs.existsSync(path.join(rt.root, id)), 'state dir left').toBe(false);
      expect(listIds(rt)).toEqual([]);
      expect(fs.existsSync(cgroup), `${cgroup} left`).toBe(false);
      expect(scanCgroups([id])).toEqual([]);
      expect(scanMounts(b.dir)).toEqual([]);
    }
  });
});

// The init hands its last steps to the static stub (src/init/handoff.ts), so what waits on exec.fifo between
// create and start is not a JS engine: the limits, applied at READY, are charged for that small process.
describe('a created container\'s waiting init', () => {
  test('is small (no JS heap waits for start)', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-rss'));
    const b = sb.bundle({ args: ['true'] });
    ok(create(rt, id, b.dir));
    try {
      const pid = state(rt, id).pid;
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      // A Node process is tens of MB; the stub a few hundred kB.
      expect(rss).toBeGreaterThan(0);
      expect(rss).toBeLessThan(4096);
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('ocirun\0init\0');
    } finally {
      ok(del(rt, id, true));
    }
  });

  test('an 8 MiB memory limit works, as under runc (it failed while a JS init waited)', () => {
    const limit = 8 * 1024 * 1024;
    const out = {} as Record<RuntimeName, RunResult>;
    for (const name of RUNTIMES) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId('lc-mem8'));
      const b = sb.bundle(
        {
          args: sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; echo ran'),
          edit: (s) => void (((s.linux!.resources ??= {}) as Record<string, unknown>).memory = { limit }),
        },
        `bundle-${name}`,
      );
      out[name] = run(rt, ['run', '--bundle', b.dir, id]);
    }
    for (const name of RUNTIMES) expect(out[name].code, `${name}\n${explain(out[name])}`).toBe(0);
    expect(out.ocirun.stdout).toBe(`${limit}\nran\n`);
    expect(out.ocirun.stdout).toBe(out.runc.stdout);
  });
});
