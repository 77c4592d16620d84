// Tests for the shared hook runner (src/process/hook.ts): the state document, argv/env translation, runc's failure
// wording, and real runs of /bin/sh hooks (stdin, argv0, exact env, cwd, timeout, first failure stops the list).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HookError, hookCommand, hookFailure, hookState, runHook, runHooks, sortedAnnotations, type HookBase } from '../../src/process/hook';

const base: HookBase = { ociVersion: '1.3.0', id: 'c1', bundle: '/b', annotations: { z: '1', a: '2' } };

describe('hookState', () => {
  it('has runc\'s key order and sorted annotations', () => {
    const s = hookState(base, 'creating', 42);
    expect(JSON.stringify(s)).toBe('{"ociVersion":"1.3.0","id":"c1","status":"creating","pid":42,"bundle":"/b","annotations":{"a":"2","z":"1"}}');
  });

  it('leaves out a missing pid and empty annotations, as Go\'s omitempty does', () => {
    expect(JSON.stringify(hookState({ ...base, annotations: {} }, 'stopped'))).toBe('{"ociVersion":"1.3.0","id":"c1","status":"stopped","bundle":"/b"}');
    expect(Object.keys(hookState({ ...base, annotations: undefined }, 'created', 0))).toEqual(['ociVersion', 'id', 'status', 'bundle']);
  });

  it('sorts annotation keys bytewise and keeps empty values', () => {
    expect(Object.keys(sortedAnnotations({ b: '', B: 'x', a: 'y' }) ?? {})).toEqual(['B', 'a', 'b']);
    expect(sortedAnnotations({ b: '' })).toEqual({ b: '' });
    expect(sortedAnnotations(undefined)).toBeUndefined();
  });
});

describe('hookCommand', () => {
  it('takes args[0] as argv0 and the rest as arguments', () => {
    const c = hookCommand({ path: '/bin/busybox', args: ['sh', '-c', 'x'] });
    expect(c).toMatchObject({ file: '/bin/busybox', argv0: 'sh', args: ['-c', 'x'] });
  });

  it('uses the path as argv0 when there are no args', () => {
    expect(hookCommand({ path: '/usr/bin/hook' })).toMatchObject({ argv0: '/usr/bin/hook', args: [] });
    expect(hookCommand({ path: '/usr/bin/hook', args: [] })).toMatchObject({ argv0: '/usr/bin/hook', args: [] });
  });

  it('builds exactly the given environment: last value of a repeated name wins, "=" in values kept', () => {
    expect(hookCommand({ path: '/h', env: ['A=1', 'B=x=y', 'A=2', 'E='] }).env).toEqual({ A: '2', B: 'x=y', E: '' });
    expect(hookCommand({ path: '/h' }).env).toEqual({});
    // Without env the caller's environment is inherited (runc: Go's nil Env); an explicit [] stays empty.
    expect(hookCommand({ path: '/h' }, { PATH: '/bin', GONE: undefined }).env).toEqual({ PATH: '/bin' });
    expect(hookCommand({ path: '/h', env: [] }, { PATH: '/bin' }).env).toEqual({});
    expect(hookCommand({ path: '/h', env: ['A=1'] }, { PATH: '/bin' }).env).toEqual({ A: '1' });
  });

  it('drops entries that have no name', () => {
    expect(hookCommand({ path: '/h', env: ['NOEQUALS', '=v', 'OK=1'] }).env).toEqual({ OK: '1' });
  });

  it('turns the timeout into milliseconds', () => {
    expect(hookCommand({ path: '/h', timeout: 3 }).timeoutMs).toBe(3000);
    expect(hookCommand({ path: '/h' }).timeoutMs).toBeUndefined();
  });
});

describe('hookFailure', () => {
  const hook = { path: '/h', timeout: 2 };
  const ok = { status: 0, signal: null, error: undefined, stdout: '', stderr: '' };

  it('is undefined for a zero exit', () => {
    expect(hookFailure(hook, ok)).toBeUndefined();
  });

  it('words a non-zero exit like runc, output included verbatim', () => {
    expect(hookFailure(hook, { ...ok, status: 3, stdout: 'o\n', stderr: 'e\n' })).toBe('exit status 3, stdout: o\n, stderr: e\n');
  });

  it('names a killing signal', () => {
    expect(hookFailure(hook, { ...ok, status: null, signal: 'SIGSEGV' })).toBe('signal: SIGSEGV, stdout: , stderr: ');
  });

  it('reports a timeout with runc\'s wording, even when the hook itself exited 0', () => {
    const err = Object.assign(new Error('spawnSync /h ETIMEDOUT'), { code: 'ETIMEDOUT' });
    expect(hookFailure(hook, { ...ok, error: err })).toBe('hook ran past specified timeout of 2.0s');
  });

  it('ignores EPIPE from a hook that did not read its stdin', () => {
    const err = Object.assign(new Error('spawnSync /h EPIPE'), { code: 'EPIPE', errno: -32 });
    expect(hookFailure(hook, { ...ok, error: err })).toBeUndefined();
    expect(hookFailure(hook, { ...ok, error: err, status: 1 })).toBe('exit status 1, stdout: , stderr: ');
  });

  it('explains a hook that could not be started', () => {
    const err = Object.assign(new Error('spawnSync /h ENOENT'), { code: 'ENOENT', errno: -2 });
    expect(hookFailure(hook, { ...ok, status: null, error: err })).toBe('exec /h: no such file or directory');
  });
});

describe('runHook and runHooks with real processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-hook-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const state = hookState(base, 'running', 7);

  it('gives the hook the state on stdin, argv0, exactly its env and the cwd asked for', () => {
    const out = path.join(dir, 'out');
    // busybox runs the applet named by argv[0]: with any other argv0 this would not be a shell at all.
    runHook('poststart', 0, { path: '/bin/busybox', args: ['sh', '-c', `{ cat; echo; echo "$0 $1"; env | sort; pwd; } > ${out}`, 'zero', 'one'], env: ['X=1', 'Y=a b'] }, state, dir);
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    expect(JSON.parse(lines[0])).toEqual(state);
    expect(lines[1]).toBe('zero one');
    // busybox sh sets PWD, SHLVL and a default PATH itself; nothing else may appear.
    const env = lines.slice(2, -2);
    expect(env.filter((l) => !/^(PWD|SHLVL|PATH)=/.test(l))).toEqual(['X=1', 'Y=a b']);
    expect(lines.at(-2)).toBe(fs.realpathSync(dir));
  });

  it('fails with the hook named by kind and index, its status and output', () => {
    expect(() => runHook('createRuntime', 2, { path: '/bin/sh', args: ['sh', '-c', 'echo out; echo err >&2; exit 9'] }, state)).toThrow(
      new HookError('error running hooks.createRuntime[2] (/bin/sh): exit status 9, stdout: out\n, stderr: err\n'),
    );
  });

  it('kills a hook that runs past its timeout', () => {
    const pidFile = path.join(dir, 'pid');
    expect(() => runHook('prestart', 0, { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], timeout: 1 }, state)).toThrow(
      'error running hooks.prestart[0] (/bin/sh): hook ran past specified timeout of 1.0s',
    );
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('runs a list in order and stops at the first failure', () => {
    const log = path.join(dir, 'log');
    const step = (n: string, code = 0) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${n} >> ${log}; exit ${code}`] });
    expect(() => runHooks('createContainer', { createContainer: [step('a'), step('b', 1), step('c')] }, state)).toThrow('hooks.createContainer[1]');
    expect(fs.readFileSync(log, 'utf8')).toBe('a\nb\n');
  });

  it('runs nothing for an absent list', () => {
    expect(() => runHooks('poststop', undefined, state)).not.toThrow();
    expect(() => runHooks('poststop', {}, state)).not.toThrow();
  });
});
