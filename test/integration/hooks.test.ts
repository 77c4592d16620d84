// OCI lifecycle hooks: every kind under runc and ocirun, compared after normalising ids, pids and paths, plus
// failures, timeouts, env and annotations. Where runc 1.1.5 departs from runtime-spec 1.3 the test says so.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Bundle, BundleOptions, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, runtimeEnv, uniqueId } from './helpers/env';
import { isAlive, messages } from './helpers/observe';
import { explain, ok, run, state, waitForStatus, type RunResult, type Runtime, type RuntimeName } from './helpers/runtime';
import { useSandbox, type Sandbox } from './helpers/sandbox';

const sb = useSandbox();
const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];
const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

// Where a recording hook puts its files, as the hook sees it: the host path, or the bind mount inside the container.
const IN_CONTAINER = '/hooks';

/**
 * A hook that records what it got into <dir>/<name>.*: stdin, env, namespaces, cwd, uid, the comm of the state's
 * pid, and its name appended to <dir>/order. It is busybox called with argv0 "sh": busybox picks the applet from
 * argv[0], so the hook only runs at all if args[0] really became argv0.
 */
function recorder(name: string, dir: string, extraEnv: string[] = []): OciHook {
  const script = [
    'k=$0; d=$OUT',
    'cat > "$d/$k.stdin"',
    'env | sort > "$d/$k.env"',
    'for n in mnt pid net uts ipc; do echo "$n $(readlink /proc/self/ns/$n)"; done > "$d/$k.ns"',
    'pwd > "$d/$k.cwd"',
    'id -u > "$d/$k.uid"',
    'p=$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\' "$d/$k.stdin")',
    // Only poststart's pid is a host pid whose program says something about timing.
    '[ "$k" = poststart ] && cat /proc/$p/comm > "$d/$k.comm"',
    'echo "$k" >> "$d/order"',
  ].join('\n');
  return { path: '/bin/busybox', args: ['sh', '-c', script, name], env: [`OUT=${dir}`, 'HOOK_VAR=a b=c', 'DUP=first', 'DUP=last', ...extraEnv] };
}

const failing = (code: number, text: string): OciHook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `echo ${text}-out; echo ${text}-err >&2; exit ${code}`],
});

// Appends the hook's name to <dir>/ran: proves a hook ran (or did not) without caring about the rest.
const marker = (dir: string, name: string): OciHook => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> ${dir}/ran`] });
const ran = (dir: string): string[] => {
  try {
    return fs.readFileSync(path.join(dir, 'ran'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

/** A hooks directory writable by the container user, bind-mounted at /hooks. */
function hooksDir(s: Sandbox, name: string): string {
  const d = s.dir(name);
  fs.chmodSync(d, 0o777);
  fs.writeFileSync(path.join(d, 'order'), '', { mode: 0o666 });
  fs.chmodSync(path.join(d, 'order'), 0o666);
  return d;
}

function withHooks(hooks: Partial<Record<Kind, OciHook[]>>, dir: string, opts: BundleOptions = {}): BundleOptions {
  return {
    args: ['sleep', '60'],
    ...opts,
    extraMounts: [{ destination: IN_CONTAINER, type: 'bind', source: dir, options: ['rbind', 'rw'] }],
    edit: (spec: OciSpec) => {
      spec.hooks = hooks;
      opts.edit?.(spec);
    },
  };
}

const readIn = (dir: string, file: string): string | undefined => {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
};

interface Observed {
  order: string[];
  records: Record<string, Record<string, unknown>>;
  state: Record<string, unknown>;
}

const NS = ['mnt', 'pid', 'net', 'uts', 'ipc'];
const nsOf = (pid: number | 'self') => Object.fromEntries(NS.map((n) => [n, fs.readlinkSync(`/proc/${pid}/ns/${n}`)]));

/** Everything a hook recorded, with run-specific values replaced by what they stand for. */
function observe(dir: string, b: Bundle, cwd: string, initPid: number, containerNs: Record<string, string>): Observed['records'] {
  const hostNs = nsOf('self');
  const norm = (s: string) =>
    s
      .split(b.rootfs).join('<rootfs>')
      .split(b.dir).join('<bundle>')
      .split(dir).join('<hooks>')
      .split(cwd).join('<cwd>');
  const out: Observed['records'] = {};
  for (const k of KINDS) {
    const stdin = readIn(dir, `${k}.stdin`);
    if (stdin === undefined) continue;
    const st = JSON.parse(stdin) as Record<string, unknown>;
    if (st.pid === initPid) st.pid = '<init pid>';
    if (typeof st.ociVersion === 'string' && /^1\./.test(st.ociVersion)) st.ociVersion = '<1.x>';
    st.bundle = norm(String(st.bundle));
    const ns = Object.fromEntries(
      (readIn(dir, `${k}.ns`) ?? '')
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([n, link]) => [n, link === hostNs[n] ? 'host' : link === containerNs[n] ? 'container' : `other ${link}`]),
    );
    out[k] = {
      state: st,
      keys: Object.keys(JSON.parse(stdin) as object),
      env: norm(readIn(dir, `${k}.env`) ?? ''),
      ns,
      cwd: norm(readIn(dir, `${k}.cwd`) ?? '').trim(),
      uid: (readIn(dir, `${k}.uid`) ?? '').trim(),
      comm: (readIn(dir, `${k}.comm`) ?? '').trim(),
    };
  }
  return out;
}

function lifecycle(rtName: RuntimeName, id: string, opts: (dir: string) => BundleOptions): Observed & { b: Bundle; dir: string } {
  const rt = sb.runtime(rtName);
  const dir = hooksDir(sb, `hooks-${rtName}`);
  const b = sb.bundle(opts(dir), `bundle-${rtName}`);
  const cwd = sb.dir(`cwd-${rtName}`);
  sb.track(rt, id);
  ok(run(rt, ['create', '--bundle', b.dir, id], { cwd }));
  const created = state(rt, id);
  const containerNs = nsOf(created.pid);
  ok(run(rt, ['start', id], { cwd }));
  ok(run(rt, ['kill', id, 'KILL'], { cwd }));
  waitForStatus(rt, id, 'stopped');
  ok(run(rt, ['delete', id], { cwd }));
  const order = (readIn(dir, 'order') ?? '').split('\n').filter(Boolean);
  return { order, records: observe(dir, b, cwd, created.pid, containerNs), state: created as unknown as Record<string, unknown>, b, dir };
}

const ANNOTATIONS = { 'org.example.b': 'two', 'org.example.a': 'one', 'com.example.empty': '' };

describe('hooks: every kind, differential against runc', () => {
  test('state on stdin, argv0, exact env, namespaces, cwd, user and order', () => {
    const id = uniqueId('hooks-all');
    const seen = {} as Record<RuntimeName, ReturnType<typeof lifecycle>>;
    for (const rtName of RUNTIMES) {
      seen[rtName] = lifecycle(rtName, id, (dir) =>
        withHooks(
          {
            prestart: [recorder('prestart', dir)],
            createRuntime: [recorder('createRuntime', dir)],
            createContainer: [recorder('createContainer', dir)],
            // Runs inside the container after pivot_root: the rootfs's busybox and the /hooks bind mount.
            startContainer: [recorder('startContainer', IN_CONTAINER)],
            poststart: [recorder('poststart', dir)],
            poststop: [recorder('poststop', dir)],
          },
          dir,
          { annotations: ANNOTATIONS, user: { uid: 1000, gid: 1000 } },
        ),
      );
    }
    const { runc, ocirun } = seen;
    for (const rtName of RUNTIMES) {
      // Vacuity guard: every hook ran and recorded its state.
      expect(Object.keys(seen[rtName].records).sort(), rtName).toEqual([...KINDS].sort());
    }

    // What ocirun must do, spelled out (runtime-spec 1.3 config.md and runtime.md "State").
    const o = ocirun.records;
    const annotations = { 'com.example.empty': '', 'org.example.a': 'one', 'org.example.b': 'two' };
    const st = (status: string, pid?: unknown) => ({ ociVersion: '<1.x>', id, status, ...(pid === undefined ? {} : { pid }), bundle: '<bundle>', annotations });
    expect(o.prestart.state).toEqual(st('creating', '<init pid>'));
    expect(o.createRuntime.state).toEqual(st('creating', '<init pid>'));
    // In the container namespace the pid is the one the container sees.
    expect(o.createContainer.state).toEqual(st('creating', 1));
    expect(o.startContainer.state).toEqual(st('created', 1));
    expect(o.poststart.state).toEqual(st('running', '<init pid>'));
    expect(o.poststop.state).toEqual(st('stopped'));
    expect(o.prestart.keys).toEqual(['ociVersion', 'id', 'status', 'pid', 'bundle', 'annotations']);
    // Annotation keys arrive sorted, as Go marshals maps.
    const raw = JSON.parse(fs.readFileSync(path.join(ocirun.dir, 'prestart.stdin'), 'utf8')) as { annotations: object };
    expect(Object.keys(raw.annotations)).toEqual(['com.example.empty', 'org.example.a', 'org.example.b']);

    const hostNs = { mnt: 'host', pid: 'host', net: 'host', uts: 'host', ipc: 'host' };
    const ctrNs = { mnt: 'container', pid: 'container', net: 'container', uts: 'container', ipc: 'container' };
    for (const k of ['prestart', 'createRuntime', 'poststart', 'poststop'] as const) expect(o[k].ns, k).toEqual(hostNs);
    for (const k of ['createContainer', 'startContainer'] as const) expect(o[k].ns, k).toEqual(ctrNs);
    // startContainer runs as the container's user, just before its execve; the rest as the runtime's.
    expect(o.startContainer.uid).toBe('1000');
    for (const k of ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'] as const) expect(o[k].uid, k).toBe('0');
    // env is exactly the hook's (the shell adds its own PWD/SHLVL/PATH), a repeated name keeping its last value.
    expect(o.createRuntime.env).toContain('HOOK_VAR=a b=c\n');
    expect(o.createRuntime.env).toContain('DUP=last\n');
    expect(o.createRuntime.env).not.toContain('DUP=first');
    expect(o.createRuntime.env).not.toMatch(/^HOME=/m);
    // poststart runs once the user's program has been exec'd (runtime.md lifecycle step 9).
    expect(o.poststart.comm).toBe('sleep');
    expect(ocirun.order).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(o.createContainer.cwd).toBe('<rootfs>');
    expect(o.startContainer.cwd).toBe('/');

    // Same as runc for everything but poststart's timing.
    for (const k of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststop'] as const) {
      expect(o[k], k).toEqual(runc.records[k]);
    }
    // runc 1.1.5 runs poststart inside `create`, before startContainer and before the user's program exists
    // (status "created", the pid still runc's init, cwd the bundle `create` chdir'd to). runtime-spec 1.3 puts
    // it after the program is executed, which is what ocirun does (runc did the same from 1.4 on, PR #5186).
    expect(runc.order).toEqual(['prestart', 'createRuntime', 'createContainer', 'poststart', 'startContainer', 'poststop']);
    expect(runc.records.poststart.state).toEqual(st('created', '<init pid>'));
    expect(runc.records.poststart.comm).toMatch(/^runc/);
    expect(runc.records.poststart.cwd).toBe('<bundle>');
    // ocirun runs it in `start`, in start's cwd as runc's `start` would.
    expect(o.poststart.cwd).toBe('<cwd>');
    // The rest of poststart is the same, the shell's PWD following the cwd.
    const rest = (r: Record<string, unknown>) => {
      const { state: _s, comm: _c, cwd: _w, env, ...more } = r;
      return { ...more, env: String(env).replace(/^PWD=.*\n/m, '') };
    };
    expect(o.poststart.env).toContain('PWD=<cwd>\n');
    expect(rest(o.poststart)).toEqual(rest(runc.records.poststart));

    // Annotations are in `state` too, in runc's key order.
    expect(ocirun.state.annotations).toEqual(runc.state.annotations);
    expect(Object.keys(ocirun.state)).toEqual(Object.keys(runc.state));
  });
});

function tryCreate(rt: Runtime, id: string, b: Bundle): RunResult {
  sb.track(rt, id);
  return run(rt, ['create', '--bundle', b.dir, id]);
}

describe('hooks: failures', () => {
  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    test(`a failing ${kind} hook fails create, leaves nothing, and poststop still runs`, () => {
      const id = uniqueId(`hooks-fail-${kind}`);
      for (const rtName of RUNTIMES) {
        const rt = sb.runtime(rtName);
        const dir = hooksDir(sb, `hooks-${rtName}`);
        const b = sb.bundle(
          withHooks({ [kind]: [marker(dir, 'first'), failing(3, 'oops'), marker(dir, 'third')], poststop: [marker(dir, 'poststop')] }, dir),
          `bundle-${rtName}`,
        );
        const r = tryCreate(rt, id, b);
        expect(r.code, `${rtName}\n${explain(r)}`).toBe(1);
        // The list stops at the first failure; runc then destroys the container, which runs poststop.
        expect(ran(dir), rtName).toEqual(['first', 'poststop']);
        expect(fs.existsSync(path.join(rt.root, id)), `${rtName} state dir`).toBe(false);
        expect(run(rt, ['list', '-q']).stdout.trim(), rtName).toBe('');
        if (rtName === 'ocirun') {
          expect(messages(r.stderr)).toContain(`error running hooks.${kind}[1] (/bin/sh): exit status 3, stdout: oops-out\n, stderr: oops-err\n`);
        } else {
          expect(messages(r.stderr)).toContain('error running hook #1: error running hook: exit status 3, stdout: oops-out\n, stderr: oops-err\n');
        }
      }
    });
  }

  test('a failing startContainer hook fails start; the container is stopped and destroyed (runc 1.1.5: start succeeds)', () => {
    const id = uniqueId('hooks-fail-start');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(
      withHooks({ startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo in-container >&2; exit 7'] }], poststop: [marker(dir, 'poststop')] }, dir, {
        args: ['sh', '-c', `echo program >> ${IN_CONTAINER}/ran; sleep 60`],
      }),
    );
    ok(tryCreate(rt, id, b));
    const pid = state(rt, id).pid;
    const r = run(rt, ['start', id]);
    // runtime-spec 1.3 lifecycle step 7: generate an error, stop the container, continue at step 12 (destroy).
    // runc 1.1.5's start returns 0 here and the init dies with the message on the container's stderr.
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr)).toContain('error running hooks.startContainer[0] (/bin/sh): exit status 7, stdout: , stderr: in-container\n');
    expect(ran(dir)).toEqual(['poststop']);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });

  test('a failing poststart hook fails start; the running program is stopped and the container destroyed', () => {
    const id = uniqueId('hooks-fail-poststart');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(withHooks({ poststart: [failing(4, 'post'), marker(dir, 'second')], poststop: [marker(dir, 'poststop')] }, dir));
    ok(tryCreate(rt, id, b));
    const pid = state(rt, id).pid;
    const r = run(rt, ['start', id]);
    // runtime-spec 1.3 lifecycle step 9 (changed from "log a warning" by runtime-spec PR #1262). runc 1.1.5 runs
    // poststart during create, so there it is create that fails.
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr)).toContain('error running hooks.poststart[0] (/bin/sh): exit status 4, stdout: post-out\n, stderr: post-err\n');
    expect(ran(dir)).toEqual(['poststop']);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });

  test('a failing poststop hook only warns: delete succeeds and the remaining poststop hooks run', () => {
    const id = uniqueId('hooks-fail-poststop');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(withHooks({ poststop: [failing(5, 'stop'), marker(dir, 'second')] }, dir));
    ok(tryCreate(rt, id, b));
    ok(run(rt, ['start', id]));
    const r = run(rt, ['delete', '--force', id]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/level=warning msg=".*hooks\.poststop\[0\]/);
    expect(messages(r.stderr)).toContain('error running hooks.poststop[0] (/bin/sh): exit status 5, stdout: stop-out\n, stderr: stop-err\n');
    // "the remaining hooks and lifecycle continue as if the hook had succeeded"; runc 1.1.5 stops at the first.
    expect(ran(dir)).toEqual(['second']);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });

  test('a hook path that does not exist fails create with the path named', () => {
    const id = uniqueId('hooks-enoent');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(withHooks({ createRuntime: [{ path: '/nonexistent/hook' }] }, dir));
    const r = tryCreate(rt, id, b);
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr)).toContain('error running hooks.createRuntime[0] (/nonexistent/hook): exec /nonexistent/hook: no such file or directory');
  });
});

describe('hooks: timeouts', () => {
  // One hook the runtime runs and one the init runs: both kill the hook and fail create.
  for (const kind of ['createRuntime', 'createContainer'] as const) {
    test(`a ${kind} hook past its timeout is killed and fails create`, () => {
      const id = uniqueId(`hooks-timeout-${kind}`);
      const rt = sb.runtime('ocirun');
      const dir = hooksDir(sb, 'hooks');
      const pidFile = path.join(dir, 'hook.pid');
      const b = sb.bundle(
        withHooks({ [kind]: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], timeout: 1 }] }, dir),
      );
      const r = tryCreate(rt, id, b);
      expect(r.code, explain(r)).toBe(1);
      expect(messages(r.stderr)).toContain(`error running hooks.${kind}[0] (/bin/sh): hook ran past specified timeout of 1.0s`);
      const hookPid = Number(fs.readFileSync(pidFile, 'utf8'));
      // For createContainer the pid is the pid-namespace one, gone with the namespace; for createRuntime the
      // killed hook must not outlive create.
      if (kind === 'createRuntime') expect(isAlive(hookPid)).toBe(false);
      expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
    });
  }
});

describe('hooks: environment and annotations', () => {
  test('a hook without env inherits the caller\'s environment as under runc; env: [] gives an empty one', () => {
    // runc hands a nil env to Go's exec.Cmd, which inherits: runc's environment for createRuntime, the container
    // process's for createContainer and startContainer (runc's init has set it). Real hooks rely on that.
    const seen: Record<string, Record<string, string[]>> = {};
    for (const rtName of RUNTIMES) {
      const id = uniqueId(`hooks-noenv-${rtName}`);
      const rt = sb.runtime(rtName);
      const dir = hooksDir(sb, `hooks-${rtName}`);
      const dump = (name: string, out: string, env?: string[]): OciHook => ({ path: '/bin/sh', args: ['sh', '-c', `env > ${out}/${name}`], ...(env ? { env } : {}) });
      const b = sb.bundle(
        withHooks(
          {
            createRuntime: [dump('createRuntime', dir), dump('createRuntime-empty', dir, [])],
            createContainer: [dump('createContainer', dir), dump('createContainer-empty', dir, [])],
            startContainer: [dump('startContainer', IN_CONTAINER), dump('startContainer-empty', IN_CONTAINER, [])],
          },
          dir,
          { env: ['PATH=/bin', 'CONTAINER_ONLY=1'] },
        ),
      );
      sb.track(rt, id);
      ok(run(rt, ['create', '--bundle', b.dir, id], { env: runtimeEnv({ RUNTIME_ONLY: '1' }) }));
      ok(run(rt, ['start', id]));
      seen[rtName] = {};
      for (const k of ['createRuntime', 'createContainer', 'startContainer']) {
        for (const variant of [k, `${k}-empty`]) {
          const env = fs.readFileSync(path.join(dir, variant), 'utf8');
          // Only the variables the test planted: the rest differ between Go and Node runtimes by nature.
          seen[rtName][variant] = env.split('\n').filter((l) => /^(RUNTIME_ONLY|CONTAINER_ONLY|HOME)=/.test(l)).sort();
        }
      }
    }
    expect(seen.ocirun).toEqual(seen.runc);
    expect(seen.ocirun.createRuntime).toContain('RUNTIME_ONLY=1');
    expect(seen.ocirun.createContainer).toContain('CONTAINER_ONLY=1');
    expect(seen.ocirun.startContainer).toContain('CONTAINER_ONLY=1');
    for (const k of ['createRuntime-empty', 'createContainer-empty', 'startContainer-empty']) expect(seen.ocirun[k], k).toEqual([]);
  });

  test('annotations appear in state, sorted, and in every hook\'s stdin', () => {
    const id = uniqueId('hooks-annotations');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(withHooks({ createRuntime: [recorder('createRuntime', dir)] }, dir, { annotations: { z: 'last', a: 'first', 'm.n/o': 'x=y' } }));
    ok(tryCreate(rt, id, b));
    const s = state(rt, id);
    expect(s.annotations).toEqual({ a: 'first', 'm.n/o': 'x=y', z: 'last' });
    expect(Object.keys(s.annotations ?? {})).toEqual(['a', 'm.n/o', 'z']);
    const stdin = JSON.parse(fs.readFileSync(path.join(dir, 'createRuntime.stdin'), 'utf8')) as { annotations: Record<string, string> };
    expect(stdin.annotations).toEqual(s.annotations);
  });
});

describe('hooks: run', () => {
  test('run runs poststart after the program starts and poststop once, in the bundle directory', () => {
    const id = uniqueId('hooks-run');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const cwdMark = (name: string): OciHook => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} $(pwd) >> ${dir}/ran`] });
    const b = sb.bundle(withHooks({ poststart: [cwdMark('poststart')], poststop: [cwdMark('poststop')] }, dir, { args: ['true'] }));
    sb.track(rt, id);
    const r = run(rt, ['run', '--bundle', b.dir, id], { cwd: sb.dir('elsewhere') });
    expect(r.code, explain(r)).toBe(0);
    // runc chdirs into the bundle for `run`, and its hooks inherit that.
    expect(ran(dir)).toEqual([`poststart ${b.dir}`, `poststop ${b.dir}`]);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });

  test('run with a failing poststart fails, destroys the container and runs poststop once', () => {
    const id = uniqueId('hooks-run-fail');
    const rt = sb.runtime('ocirun');
    const dir = hooksDir(sb, 'hooks');
    const b = sb.bundle(withHooks({ poststart: [failing(2, 'ps')], poststop: [marker(dir, 'poststop')] }, dir));
    sb.track(rt, id);
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expect(r.code, explain(r)).toBe(1);
    expect(messages(r.stderr)).toContain('ocirun run failed: error running hooks.poststart[0] (/bin/sh): exit status 2');
    expect(ran(dir)).toEqual(['poststop']);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });
});
