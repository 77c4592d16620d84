// Lifecycle and CLI behaviour of ocirun, with runc 1.1.5's observable behaviour
// (exit codes, error wording, output formats) as the expectation.
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCIRUN_BIN, OCIRUN_IS_RUNC, uniqueId, requireBinaries, sh } from './helpers/env';
import { isAlive, messages } from './helpers/observe';
import {
  create,
  del,
  explain,
  kill,
  ok,
  run,
  runInBackground,
  sleepMs,
  start,
  state,
  stateRaw,
  waitForStatus,
  type RunResult,
  type Runtime,
} from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(OCIRUN_BIN));

// runc prints logrus lines (msg="..."), ocirun may print those or bare text: match decoded messages.
function expectFail(r: RunResult, message: string | RegExp): void {
  expect(r.code, explain(r)).toBe(1);
  const text = messages(r.stderr);
  if (typeof message === 'string') expect(text, explain(r)).toContain(message);
  else expect(text, explain(r)).toMatch(message);
}

function waitDead(pid: number, timeoutMs = 3_000): boolean {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    sleepMs(20);
  }
  return true;
}

/** A created container whose process sleeps, tracked for teardown. */
function createSleeper(rt: Runtime, name: string, extra: string[] = []): { id: string; bundle: string } {
  const id = sb.track(rt, uniqueId(name));
  const b = sb.bundle({ args: ['sleep', '60'] });
  ok(create(rt, id, b.dir, extra));
  return { id, bundle: b.dir };
}

/**
 * runc formats `list` with Go's tabwriter (minwidth 12, padding 3, last column
 * unpadded); rebuilding the table the same way pins the exact byte layout.
 */
function tabwriterTable(rows: string[][]): string {
  const cols = rows[0]?.length ?? 0;
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c += 1) {
    widths.push(Math.max(12, ...rows.map((r) => (r[c] ?? '').length + 3)));
  }
  return rows
    .map((r) => r.map((cell, c) => (c < cols - 1 ? cell.padEnd(widths[c] ?? 0) : cell)).join(''))
    .join('\n')
    .concat('\n');
}

/**
 * ocirun's `spec` deliberately follows current runc's template (specconv/example.go),
 * not 1.1.5's: no ambient capability set, /sys/devices/virtual/tpm masked. The same
 * edit is pinned in test/unit/oci.defaults.test.ts. Not applied when runc is the
 * binary under test, since then both sides are 1.1.5.
 */
function asCurrentRuncTemplate(spec: Record<string, unknown>): Record<string, unknown> {
  if (OCIRUN_IS_RUNC) return spec;
  const s = structuredClone(spec) as {
    process: { capabilities: Record<string, unknown> };
    linux: { maskedPaths: string[] };
  };
  delete s.process.capabilities.ambient;
  s.linux.maskedPaths.push('/sys/devices/virtual/tpm');
  return s as unknown as Record<string, unknown>;
}

describe('lifecycle', () => {
  test('create → created → start → running → kill KILL → stopped → delete', () => {
    const rt = sb.runtime('ocirun');
    const { id, bundle } = createSleeper(rt, 'lc-basic');
    const created = state(rt, id);
    expect(created.status).toBe('created');
    expect(created.bundle).toBe(bundle);
    expect(isAlive(created.pid)).toBe(true);

    ok(start(rt, id));
    const running = state(rt, id);
    expect(running.status).toBe('running');
    expect(running.pid).toBe(created.pid);
    expect(fs.readFileSync(`/proc/${running.pid}/cmdline`, 'utf8')).toBe('sleep\u000060\u0000');

    ok(kill(rt, id, 'KILL'));
    const stopped = waitForStatus(rt, id, 'stopped');
    expect(stopped.pid).toBe(0);

    ok(del(rt, id));
    expectFail(stateRaw(rt, id), 'container does not exist');
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });

  test('a created container can be deleted without --force', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-del-created');
    const pid = state(rt, id).pid;
    ok(del(rt, id));
    expectFail(stateRaw(rt, id), 'container does not exist');
    expect(waitDead(pid)).toBe(true);
  });

  test('kill of a created container stops it', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-kill-created');
    ok(kill(rt, id, 'KILL'));
    waitForStatus(rt, id, 'stopped');
  });

  test('run propagates the exit code', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-exit3'));
    const b = sb.bundle({ args: sh('echo hello; exit 3') });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(3);
    expect(r.stdout).toBe('hello\n');
    // Without --keep, run deletes the container once its process exits.
    expectFail(stateRaw(rt, id), 'container does not exist');
  });

  test('run of a process killed by a signal exits 128+N (external SIGKILL → 137)', async () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-sig-ext'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const bg = runInBackground(rt, ['run', '--bundle', b.dir, id]);
    const deadline = Date.now() + 10_000;
    while (stateRaw(rt, id).stdout.includes('"running"') === false) {
      if (Date.now() > deadline) throw new Error('container never reached running');
      sleepMs(25);
    }
    ok(kill(rt, id, 'KILL'));
    const r = await bg.done;
    expect(r.code, explain(r)).toBe(137);
  });

  test('run without a pid namespace: `kill -9 $$` exits 137', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-sig-self'));
    const b = sb.bundle({
      args: sh('kill -9 $$; echo survived'),
      edit: (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      },
    });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(137);
    expect(r.stdout).toBe('');
  });

  test('run with a pid namespace: `kill -9 $$` is ignored by pid 1, exit 0', () => {
    // The kernel drops SIGKILL sent by pid 1 of a namespace to itself; a runtime that
    // left its own helper as pid 1 would make the shell die with 137 here instead.
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-sig-pid1'));
    const b = sb.bundle({ args: sh('kill -9 $$; echo survived') });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe('survived\n');
  });

  test('run -d detaches, leaves the container running, prints nothing', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-detach'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const r = ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
    expect(r.stdout).toBe('');
    const s = state(rt, id);
    expect(s.status).toBe('running');
    expect(isAlive(s.pid)).toBe(true);
  });

  test('list: table, -q and --format json', () => {
    const rt = sb.runtime('ocirun');
    const empty = ok(run(rt, ['list']));
    expect(empty.stdout).toBe(tabwriterTable([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']]));
    // runc marshals a nil slice: the empty JSON list is the literal null.
    expect(ok(run(rt, ['list', '--format', 'json'])).stdout.trim()).toBe('null');
    expect(ok(run(rt, ['list', '-q'])).stdout).toBe('');

    const a = createSleeper(rt, 'lc-list-a');
    const bId = sb.track(rt, uniqueId('lc-list-b'));
    const bb = sb.bundle({ args: ['sleep', '60'] });
    ok(run(rt, ['run', '-d', '--bundle', bb.dir, bId]));
    const sa = state(rt, a.id);
    const sbState = state(rt, bId);

    const ids = [a.id, bId].sort();
    expect(ok(run(rt, ['list', '-q'])).stdout).toBe(`${ids.join('\n')}\n`);

    const table = ok(run(rt, ['list'])).stdout;
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const s of [sa, sbState].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, 'root']);
    }
    expect(table).toBe(tabwriterTable(rows));

    const json = JSON.parse(ok(run(rt, ['list', '--format', 'json'])).stdout) as Record<string, unknown>[];
    expect(json.map((e) => e.id).sort()).toEqual(ids);
    for (const e of json) {
      expect(Object.keys(e).sort()).toEqual(
        ['bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status'].sort(),
      );
      expect(e.owner).toBe('root');
      expect(e.status).toBe(e.id === a.id ? 'created' : 'running');
    }
  });

  test.each([['TERM'], ['SIGTERM'], ['15'], ['term'], [undefined]])('kill with signal %s delivers SIGTERM', (sig) => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lc-term'));
    // pid 1 only gets signals it handles, so the shell traps TERM; the ready file
    // (rootfs is a host directory) avoids racing the trap's installation.
    const b = sb.bundle({
      readonly: false,
      args: sh('trap "exit 0" TERM; touch /tmp/ready; while :; do sleep 0.05; done'),
    });
    ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
    const ready = path.join(b.rootfs, 'tmp', 'ready');
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(ready)) {
      if (Date.now() > deadline) throw new Error('trap never installed');
      sleepMs(10);
    }
    ok(kill(rt, id, sig));
    waitForStatus(rt, id, 'stopped');
  });

  test('kill with an unknown signal name fails', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-badsig');
    expectFail(kill(rt, id, 'FOO'), 'unknown signal "FOO"');
    expect(state(rt, id).status).toBe('created');
  });

  test('delete --force of a running container', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-force');
    ok(start(rt, id));
    const pid = state(rt, id).pid;
    ok(del(rt, id, true));
    expectFail(stateRaw(rt, id), 'container does not exist');
    expect(waitDead(pid)).toBe(true);
  });

  test('delete of a running container without --force is refused', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-noforce');
    ok(start(rt, id));
    expectFail(del(rt, id), `cannot delete container ${id} that is not stopped: running`);
    expect(state(rt, id).status).toBe('running');
  });

  test('--pid-file for create and run -d holds the init pid without a newline', () => {
    const rt = sb.runtime('ocirun');
    const pidFile = path.join(sb.dir('pids'), 'create.pid');
    const { id } = createSleeper(rt, 'lc-pidfile', ['--pid-file', pidFile]);
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(state(rt, id).pid));

    const id2 = sb.track(rt, uniqueId('lc-pidfile-d'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const pidFile2 = path.join(sb.dir('pids'), 'run.pid');
    ok(run(rt, ['run', '-d', '--pid-file', pidFile2, '--bundle', b.dir, id2]));
    expect(fs.readFileSync(pidFile2, 'utf8')).toBe(String(state(rt, id2).pid));
  });

  test('a second create with the same id is refused and the first survives', () => {
    const rt = sb.runtime('ocirun');
    const { id, bundle } = createSleeper(rt, 'lc-dup');
    const pid = state(rt, id).pid;
    // runc: "container with given ID already exists".
    expectFail(create(rt, id, bundle), 'already exists');
    const s = state(rt, id);
    expect(s.status).toBe('created');
    expect(s.pid).toBe(pid);
  });

  // containerd's runc client maps "does not exist" to a not-found error: keep the wording.
  test('operations on a missing container fail with "container does not exist"', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId('lc-missing');
    expectFail(kill(rt, id, 'KILL'), 'container does not exist');
    expectFail(del(rt, id), 'container does not exist');
    expectFail(stateRaw(rt, id), 'container does not exist');
    expectFail(start(rt, id), 'container does not exist');
    // runc treats a forced delete of nothing as success, silently.
    const forced = del(rt, id, true);
    expect(forced.code, explain(forced)).toBe(0);
    expect(forced.stderr).toBe('');
  });

  test('start of a running container fails; start of a stopped one too', () => {
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-restart');
    ok(start(rt, id));
    expectFail(start(rt, id), 'cannot start an already running container');
    ok(kill(rt, id, 'KILL'));
    waitForStatus(rt, id, 'stopped');
    expectFail(start(rt, id), 'cannot start a container that has stopped');
  });

  test('kill of a stopped container fails with "container not running"', () => {
    // containerd's shim turns "container not running" into "process already finished".
    const rt = sb.runtime('ocirun');
    const { id } = createSleeper(rt, 'lc-kill-stopped');
    ok(kill(rt, id, 'KILL'));
    waitForStatus(rt, id, 'stopped');
    expectFail(kill(rt, id, 'KILL'), 'container not running');
    expectFail(kill(rt, id, 'TERM'), 'container not running');
  });

  test.each([['a/b'], ['..'], ['../escape'], ['.']])('container id %s is refused', (badId) => {
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({ args: ['true'] });
    // runc: "invalid container ID format".
    expectFail(create(rt, badId, b.dir), /invalid container id format/i);
    expect(fs.existsSync(path.join(sb.testDir, 'escape'))).toBe(false);
    const root = fs.existsSync(rt.root) ? fs.readdirSync(rt.root) : [];
    expect(root).toEqual([]);
  });

  test('an empty container id is refused', () => {
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({ args: ['true'] });
    expectFail(create(rt, '', b.dir), 'container id cannot be empty');
  });

  test.skipIf(OCIRUN_IS_RUNC)('--version prints ocirun version, commit and spec 1.3.0', () => {
    const rt = sb.runtime('ocirun');
    const r = ok(run(rt, ['--version'], { noRoot: true }));
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ocirun version \S+$/);
    expect(lines[1]).toMatch(/^commit: \S+$/);
    expect(lines[2]).toBe('spec: 1.3.0');
  });

  test('--log with --log-format json writes JSON lines, ending with the error', () => {
    const rt = sb.runtime('ocirun');
    const log = path.join(sb.dir('log'), 'ocirun.log');
    const r = run(rt, ['delete', uniqueId('lc-log-missing')], { globalArgs: ['--log', log, '--log-format', 'json'] });
    expect(r.code, explain(r)).toBe(1);
    // runc still prints the bare message on stderr when logging to a file.
    expect(r.stderr).toContain('container does not exist');
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) {
      expect(typeof e.level).toBe('string');
      expect(typeof e.msg).toBe('string');
      expect(Number.isNaN(Date.parse(String(e.time)))).toBe(false);
    }
    const last = entries[entries.length - 1] as Record<string, unknown>;
    expect(last.level).toBe('error');
    expect(last.msg).toBe('container does not exist');
  });

  test('spec writes runc\'s default config.json and refuses to overwrite it', () => {
    const oci = sb.runtime('ocirun');
    const runc = sb.runtime('runc');
    const dir = sb.dir('spec-ocirun');
    const ref = sb.dir('spec-runc');
    ok(run(oci, ['spec', '--bundle', dir], { noRoot: true }));
    ok(run(runc, ['spec', '--bundle', ref], { noRoot: true }));
    const mine = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const theirs = JSON.parse(fs.readFileSync(path.join(ref, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(typeof mine.ociVersion).toBe('string');
    // The spec version is the one field that is ours to choose.
    delete mine.ociVersion;
    delete theirs.ociVersion;
    expect(mine).toEqual(asCurrentRuncTemplate(theirs));

    const before = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    expectFail(run(oci, ['spec', '--bundle', dir], { noRoot: true }), 'File config.json exists. Remove it first');
    expect(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe(before);
  });

  test('spec --rootless matches runc\'s rootless template', () => {
    const oci = sb.runtime('ocirun');
    const runc = sb.runtime('runc');
    const dir = sb.dir('spec-ocirun');
    const ref = sb.dir('spec-runc');
    ok(run(oci, ['spec', '--rootless', '--bundle', dir], { noRoot: true }));
    ok(run(runc, ['spec', '--rootless', '--bundle', ref], { noRoot: true }));
    const mine = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
      ociVersion?: string;
      linux: { uidMappings: unknown; namespaces: { type: string }[] };
    };
    const theirs = JSON.parse(fs.readFileSync(path.join(ref, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(mine.linux.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid?.() ?? 0, size: 1 }]);
    expect(mine.linux.namespaces.map((n) => n.type)).toContain('user');
    expect(mine.linux.namespaces.map((n) => n.type)).not.toContain('network');
    delete mine.ociVersion;
    delete theirs.ociVersion;
    expect(mine).toEqual(asCurrentRuncTemplate(theirs));
  });

  test('spec into a missing directory fails', () => {
    const oci = sb.runtime('ocirun');
    const missing = path.join(sb.testDir, 'no-such-dir');
    const r = run(oci, ['spec', '--bundle', missing], { noRoot: true });
    // runc: "chdir <dir>: no such file or directory".
    expectFail(r, missing);
    expectFail(r, /no such (file or )?directory/);
  });
});
