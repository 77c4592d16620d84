// The cgroup commands against runc on the same bundle: pause/resume, events (--stats, --interval,
// oom), ps, kill --all and delete of paused or dead containers; each leaves no cgroup behind.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import type { BundleOptions } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, runtimeEnv, sh, uniqueId } from './helpers/env';
import { jsonShape } from './helpers/normalise';
import { cgroupDirOf, cgroupProcs, expectFailed, isAlive, messages, waitUntil } from './helpers/observe';
import { scanCgroups } from './helpers/leftovers';
import { create, del, kill, ok, run, start, state, waitForStatus, type RunResult, type Runtime, type RuntimeName } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

interface Ctr {
  rt: Runtime;
  id: string;
  pid: number;
}

// Each runtime gets its own id: both containers may exist at once and cgroup paths derive from the id.
function createOne(rtName: RuntimeName, base: string, opts: BundleOptions, startIt = true): Ctr {
  const rt = sb.runtime(rtName);
  const id = sb.track(rt, uniqueId(`${base}-${rtName}`));
  const b = sb.bundle(opts, `bundle-${rtName}`);
  ok(create(rt, id, b.dir));
  if (startIt) ok(start(rt, id));
  return { rt, id, pid: state(rt, id).pid };
}

const SLEEPERS = sh('sleep 1000 & exec sleep 1000');
const status = (c: Ctr) => state(c.rt, c.id).status;
// What an error run says, for comparing the two runtimes (exit code plus the messages).
const outcome = (r: RunResult) => ({ code: r.code, msg: messages(r.stderr).trim() });

function procState(pid: number): string {
  return /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
}

describe('pause / resume', () => {
  test('running, paused, resumed, and the errors, as runc', () => {
    const seen: Record<string, unknown[]> = {};
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'pause', { args: SLEEPERS });
      const log: unknown[] = [];
      ok(run(c.rt, ['pause', c.id]));
      log.push(status(c));
      const listed = ok(run(c.rt, ['list', '--format', 'json'])).stdout;
      log.push((JSON.parse(listed) as { status: string }[]).map((x) => x.status));
      // A frozen task is in the kernel's freezer wait; its state letter is what both runtimes see alike.
      log.push(procState(c.pid));
      log.push(outcome(run(c.rt, ['pause', c.id])));
      ok(run(c.rt, ['resume', c.id]));
      log.push(status(c), procState(c.pid));
      log.push(outcome(run(c.rt, ['resume', c.id])));
      ok(kill(c.rt, c.id, 'KILL'));
      waitForStatus(c.rt, c.id, 'stopped');
      log.push(outcome(run(c.rt, ['pause', c.id])), outcome(run(c.rt, ['resume', c.id])));
      log.push(outcome(run(c.rt, ['pause', 'no-such-ctr'])), outcome(run(c.rt, ['pause'])).code);
      ok(del(c.rt, c.id));
      seen[rtName] = log;
    }
    expect(seen.runc.slice(0, 2)).toEqual(['paused', ['paused']]);
    expect((seen.runc[3] as { msg: string }).msg).toContain('container not running');
    expect((seen.runc[6] as { msg: string }).msg).toContain('container not paused');
    const strip = (l: unknown[]) => JSON.parse(JSON.stringify(l).replace(/time=\\"[^"]*\\" level=error msg=/g, '').replace(/runc: /g, '')) as unknown;
    expect(strip(seen.ocirun)).toEqual(strip(seen.runc));
  });

  test('a created container pauses, shows "paused", and resumes to "created"', () => {
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'pausecr', { args: ['true'] }, false);
      ok(run(c.rt, ['pause', c.id]));
      expect(status(c), rtName).toBe('paused');
      ok(run(c.rt, ['resume', c.id]));
      expect(status(c), rtName).toBe('created');
      ok(del(c.rt, c.id, true));
    }
  });
});

// events --stats with the value-dependent parts dropped: omitempty fields that vanish at zero.
function statsShape(line: string): unknown {
  const ev = JSON.parse(line) as { type: string; id: string; data: Record<string, Record<string, unknown>> };
  const d = ev.data;
  delete d.memory.cache;
  for (const k of ['usage', 'swap', 'kernel', 'kernelTCP']) {
    const e = d.memory[k] as Record<string, unknown>;
    delete e.usage;
    delete e.max;
  }
  return jsonShape({ type: ev.type, data: d });
}

describe('events', () => {
  test('--stats prints one document in runc shape, with the exact pid count', () => {
    const out: Record<string, string> = {};
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'stats', { args: SLEEPERS });
      waitUntil(() => cgroupProcs(cgroupDirOf(c.pid, 'pids')).length === 2, 'two processes');
      const r = ok(run(c.rt, ['events', '--stats', c.id]));
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      const ev = JSON.parse(r.stdout) as { id: string; data: { pids: unknown; memory: { usage: { limit: number } } } };
      expect(ev.id).toBe(c.id);
      expect(ev.data.pids, rtName).toEqual({ current: 2 });
      // Exact uint64 text (runc's Go encoding), not a rounded double.
      expect(r.stdout).toMatch(/"limit":\d{19},/);
      out[rtName] = r.stdout;
      ok(kill(c.rt, c.id, 'KILL'));
      waitForStatus(c.rt, c.id, 'stopped');
      // events on a stopped container
      const stopped = run(c.rt, ['events', '--stats', c.id]);
      expectFailed(stopped, `container with id ${c.id} is not running`);
      ok(del(c.rt, c.id));
    }
    expect(statsShape(out.ocirun)).toEqual(statsShape(out.runc));
  });

  test('--interval streams stats, keeps going after the container stops, and ends when it is deleted', async () => {
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'evint', { args: SLEEPERS });
      const w = watch(c.rt, ['events', '--interval', '100ms', c.id]);
      try {
        await w.until(`"type":"stats","id":"${c.id}"`, 2);
        ok(kill(c.rt, c.id, 'KILL'));
        waitForStatus(c.rt, c.id, 'stopped');
        // runc on v1 ends the stream only when the cgroup goes (its OOM eventfd fires on removal).
        await w.until('"type":"stats"', w.count('"type":"stats"') + 2);
        expect(w.exited, rtName).toBe(false);
        ok(del(c.rt, c.id));
        const r = await w.done;
        expect(r.code, `${rtName}\n${r.stderr}`).toBe(0);
        const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id: string });
        expect(lines.length, rtName).toBeGreaterThanOrEqual(3);
        for (const l of lines) expect(l, rtName).toMatchObject({ type: 'stats', id: c.id });
      } finally {
        await w.stop();
      }
    }
  });

  // The limit comes from the config (memsw too, so the hog cannot swap); the host-side files confirm it.
  test('an OOM kill in a memory-limited container is an "oom" event', async () => {
    for (const rtName of RUNTIMES) {
      const limit = 32 << 20;
      const c = createOne(
        rtName,
        'evoom',
        {
          args: sh('x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'),
          edit: (spec) => {
            const linux = spec.linux as { resources?: Record<string, unknown> };
            linux.resources = { ...linux.resources, memory: { limit, swap: limit } };
          },
        },
        false,
      );
      const mem = cgroupDirOf(c.pid, 'memory');
      expect(fs.readFileSync(`${mem}/memory.limit_in_bytes`, 'utf8').trim(), rtName).toBe(String(limit));
      expect(fs.readFileSync(`${mem}/memory.memsw.limit_in_bytes`, 'utf8').trim(), rtName).toBe(String(limit));
      const w = watch(c.rt, ['events', '--interval', '100ms', c.id]);
      try {
        await w.until('"type":"stats"');
        ok(start(c.rt, c.id));
        await w.until(`{"type":"oom","id":"${c.id}"}\n`);
        waitForStatus(c.rt, c.id, 'stopped');
        ok(del(c.rt, c.id));
        const r = await w.done;
        expect(r.code, `${rtName}\n${r.stderr}`).toBe(0);
      } finally {
        await w.stop();
      }
    }
  });

  test('flag and argument errors as runc', () => {
    const seen: Record<string, unknown[]> = {};
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'everr', { args: SLEEPERS });
      seen[rtName] = [
        run(c.rt, ['events', '--interval', '1x', c.id]).code,
        outcome(run(c.rt, ['events', '--interval', '0s', c.id])).msg.replace(/^.*msg="?|"$/g, ''),
        run(c.rt, ['events']).code,
        outcome(run(c.rt, ['events', 'no-such-ctr'])).msg.replace(/^.*msg="?|"$/g, ''),
      ];
    }
    expect(seen.ocirun).toEqual(seen.runc);
    expect(seen.runc[1]).toContain('duration interval must be greater than 0');
  });
});

// A background runtime whose stdout the test reads while it runs; settled in finally blocks.
function watch(rt: Runtime, args: string[]) {
  const child = spawn(rt.bin, ['--root', rt.root, ...args], { env: runtimeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  let exited = false;
  void done.then(() => (exited = true));
  return {
    done,
    count: (needle: string) => stdout.split(needle).length - 1,
    // Resolves once stdout holds n occurrences of needle.
    async until(needle: string, n = 1, timeoutMs = 15_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (stdout.split(needle).length - 1 < n) {
        if (exited) throw new Error(`exited before ${n}x ${needle}\nstdout: ${stdout}\nstderr: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${n}x ${needle} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    get exited() {
      return exited;
    },
    async stop(): Promise<void> {
      if (!exited) child.kill('SIGKILL');
      await done;
    },
  };
}

describe('ps', () => {
  test('json and table (default -ef, custom options), filtered to the container, as runc', () => {
    const seen: Record<string, unknown> = {};
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'ps', { args: SLEEPERS });
      const procs = () => cgroupProcs(cgroupDirOf(c.pid, 'pids'));
      waitUntil(() => procs().length === 2, 'two processes');
      const json = JSON.parse(ok(run(c.rt, ['ps', '--format', 'json', c.id])).stdout) as number[];
      expect(json.sort(), rtName).toEqual(procs().sort());
      const table = ok(run(c.rt, ['ps', c.id])).stdout.split('\n').filter(Boolean);
      // -ef columns: UID PID PPID C STIME TTY TIME CMD; the pid column is the container's pids.
      expect(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort(), rtName).toEqual(procs().sort());
      const custom = ok(run(c.rt, ['ps', c.id, '-o', 'pid,comm'])).stdout;
      const customRows = custom.split('\n').filter(Boolean);
      expect(customRows.slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).sort(), rtName).toEqual(procs().sort());
      ok(kill(c.rt, c.id, 'KILL'));
      waitForStatus(c.rt, c.id, 'stopped');
      seen[rtName] = {
        header: table[0],
        cmds: table.slice(1).map((l) => l.replace(/^.*\d\d:\d\d:\d\d /, '')),
        custom: custom.replace(/\d+/g, 'N'),
        afterJson: ok(run(c.rt, ['ps', '-f', 'json', c.id])).stdout,
        afterTable: ok(run(c.rt, ['ps', c.id])).stdout,
        badFormat: outcome(run(c.rt, ['ps', '-f', 'yaml', c.id])).msg.replace(/^.*msg="?|"$/g, ''),
        // "--" after the id is not special: runc hands it to ps, which rejects it.
        dashdash: run(c.rt, ['ps', c.id, '--', '-o', 'pid']).code,
        missing: outcome(run(c.rt, ['ps', 'no-such-ctr'])).msg.replace(/^.*msg="?|"$/g, ''),
        noArgs: run(c.rt, ['ps']).code,
      };
      ok(del(c.rt, c.id));
    }
    expect(seen.ocirun).toEqual(seen.runc);
    expect((seen.runc as { afterJson: string }).afterJson).toBe('null\n');
  });
});

describe('kill --all', () => {
  // No pid namespace: killing init does not take the rest with it, so only kill --all can, and
  // without the freeze a child forked between listing and signalling would survive.
  const forker: BundleOptions = {
    args: sh('sleep 1000 & sleep 1000 & while true; do sleep 1000 & sleep 0.001; done'),
    edit: (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
    },
  };

  test('signals every process, including one forking in a loop: the cgroup ends empty', () => {
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'killall', forker);
      const dir = cgroupDirOf(c.pid, 'pids');
      const freezer = cgroupDirOf(c.pid, 'freezer');
      waitUntil(() => cgroupProcs(dir).length >= 10, 'the forker to fill the cgroup');
      ok(run(c.rt, ['kill', '--all', c.id, 'KILL']));
      waitUntil(() => cgroupProcs(dir).length === 0, `${rtName}: every process gone`);
      expect(fs.readFileSync(`${freezer}/freezer.state`, 'utf8').trim(), rtName).toBe('THAWED');
      waitForStatus(c.rt, c.id, 'stopped');
      ok(del(c.rt, c.id));
      expect(scanCgroups([c.id]), rtName).toEqual([]);
    }
  });

  test('a paused container is thawed after kill --all (runc 1.1), a stopped one is no error', () => {
    const seen: Record<string, unknown[]> = {};
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'killallp', { args: SLEEPERS });
      ok(run(c.rt, ['pause', c.id]));
      // SIGWINCH is ignored by sleep: the processes stay, only the freezer state shows.
      ok(run(c.rt, ['kill', '--all', c.id, 'WINCH']));
      const afterPaused = status(c);
      ok(kill(c.rt, c.id, 'KILL'));
      waitForStatus(c.rt, c.id, 'stopped');
      seen[rtName] = [afterPaused, run(c.rt, ['kill', '--all', c.id, 'KILL']).code, outcome(run(c.rt, ['kill', c.id, 'KILL'])).code];
      ok(del(c.rt, c.id));
    }
    expect(seen.ocirun).toEqual(seen.runc);
    expect(seen.runc).toEqual(['running', 0, 1]);
  });
});

describe('delete', () => {
  test('--force of a paused container thaws, kills and removes everything', () => {
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'delpaused', { args: SLEEPERS });
      const dir = cgroupDirOf(c.pid, 'pids');
      ok(run(c.rt, ['pause', c.id]));
      expectFailed(del(c.rt, c.id), `cannot delete container ${c.id} that is not stopped: paused`);
      ok(del(c.rt, c.id, true));
      expect(isAlive(c.pid), rtName).toBe(false);
      expect(fs.existsSync(dir), rtName).toBe(false);
      expect(scanCgroups([c.id]), rtName).toEqual([]);
      expect(run(c.rt, ['state', c.id]).code, rtName).not.toBe(0);
    }
  });

  test('after init died, delete leaves no cgroup behind', () => {
    for (const rtName of RUNTIMES) {
      const c = createOne(rtName, 'deldead', { args: SLEEPERS });
      expect(scanCgroups([c.id]).length, rtName).toBeGreaterThan(0);
      process.kill(c.pid, 'SIGKILL');
      waitForStatus(c.rt, c.id, 'stopped');
      ok(del(c.rt, c.id));
      expect(scanCgroups([c.id]), rtName).toEqual([]);
    }
  });

  test('pause racing kill --all and delete --force never leaves a frozen orphan cgroup', async () => {
    const c = createOne('ocirun', 'race', { args: SLEEPERS });
    const bg = (args: string[]) =>
      new Promise<number | null>((resolve) => {
        const p = spawn(c.rt.bin, ['--root', c.rt.root, ...args], { env: runtimeEnv(), stdio: 'ignore' });
        p.once('close', (code) => resolve(code));
      });
    await Promise.all([bg(['pause', c.id]), bg(['kill', '--all', c.id, 'KILL']), bg(['pause', c.id]), bg(['delete', '--force', c.id])]);
    // Whatever order the lock gave them, the container ends deleted (or deletable) and nothing frozen remains.
    if (run(c.rt, ['state', c.id]).code === 0) ok(del(c.rt, c.id, true));
    expect(scanCgroups([c.id])).toEqual([]);
    expect(isAlive(c.pid)).toBe(false);
  });
});
