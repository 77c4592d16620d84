// Tests for the HOOK round trip between the init (src/init/hooks.ts) and the runtime (src/container/hooks.ts) over a
// real socketpair, and for poststop's warn-and-continue policy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { answerHookRequest, runPoststop } from '../../src/container/hooks';
import { requestRuntimeHooks } from '../../src/init/hooks';
import type { InitConfig } from '../../src/init/config';
import { libc } from '../../src/linux/libc';
import type { Hooks, Spec } from '../../src/oci';
import { MSG, readMessage, writeMessage } from '../../src/process/protocol';

const log = vi.hoisted(() => ({ warn: vi.fn(), debug: vi.fn(), error: vi.fn(), log: vi.fn() }));
vi.mock('../../src/log', () => log);

let dir: string;
let fds: number[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-hooks-'));
  log.warn.mockClear();
});
afterEach(() => {
  for (const fd of fds) fs.closeSync(fd);
  fds = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

const pair = (): [number, number] => {
  const p = libc().socketpair();
  fds.push(...p);
  return p;
};
const spec = (hooks: Hooks): Spec => ({ ociVersion: '1.3.0', hooks, annotations: { k: 'v' } }) as Spec;
const initCfg = (hooks: Hooks): InitConfig => ({ id: 'c1', ociVersion: '1.3.0', config: spec(hooks), bundle: dir }) as InitConfig;
const append = (name: string, code = 0) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> ${dir}/log; exit ${code}`] });
const logged = () => (fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8') : '');

describe('the init side: requestRuntimeHooks', () => {
  it('sends nothing when there are no prestart or createRuntime hooks', () => {
    // An fd that cannot be written: any message would throw EBADF.
    expect(() => requestRuntimeHooks(initCfg({ createContainer: [append('x')], poststop: [append('y')] }), -1)).not.toThrow();
    expect(() => requestRuntimeHooks(initCfg({ prestart: [] }), -1)).not.toThrow();
  });

  it('sends HOOK and returns on HOOK_DONE', () => {
    const [init, runtime] = pair();
    writeMessage(runtime, MSG.HOOK_DONE);
    requestRuntimeHooks(initCfg({ createRuntime: [append('x')] }), init);
    expect(readMessage(runtime)?.type).toBe(MSG.HOOK);
  });

  it('throws the runtime\'s ERROR text', () => {
    const [init, runtime] = pair();
    writeMessage(runtime, MSG.ERROR, 'hook broke');
    expect(() => requestRuntimeHooks(initCfg({ prestart: [append('x')] }), init)).toThrow('hook broke');
  });
});

describe('the runtime side: answerHookRequest', () => {
  it('runs prestart then createRuntime with status "creating" and the init pid, then answers HOOK_DONE', () => {
    const [init, runtime] = pair();
    const rec = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `{ echo ${name}; cat; echo; } >> ${dir}/log`] });
    answerHookRequest(runtime, spec({ createRuntime: [rec('createRuntime')], prestart: [rec('prestart')] }), { id: 'c1', bundle: '/b', annotations: { k: 'v' } }, 4321, dir);
    expect(readMessage(init)?.type).toBe(MSG.HOOK_DONE);
    const lines = logged().split('\n');
    expect(lines[0]).toBe('prestart');
    expect(lines[2]).toBe('createRuntime');
    expect(lines[1]).toBe(lines[3]);
    expect(JSON.parse(lines[1])).toEqual({ ociVersion: '1.3.0', id: 'c1', status: 'creating', pid: 4321, bundle: '/b', annotations: { k: 'v' } });
  });

  it('answers ERROR and throws when a hook fails; createRuntime does not run after a failed prestart', () => {
    const [init, runtime] = pair();
    expect(() =>
      answerHookRequest(runtime, spec({ prestart: [append('p', 6)], createRuntime: [append('c')] }), { id: 'c1', bundle: '/b' }, 1, dir),
    ).toThrow('unable to start container process: error running hooks.prestart[0] (/bin/sh): exit status 6');
    const m = readMessage(init);
    expect(m?.type).toBe(MSG.ERROR);
    expect(m?.payload.toString()).toContain('hooks.prestart[0]');
    expect(logged()).toBe('p\n');
  });
});

describe('runPoststop', () => {
  it('warns about a failing hook and runs the rest', () => {
    runPoststop(spec({ poststop: [append('a', 1), append('b'), append('c', 2)] }), { id: 'c1', bundle: '/b' }, dir);
    expect(logged()).toBe('a\nb\nc\n');
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.warn.mock.calls[0][0]).toContain('error running hooks.poststop[0] (/bin/sh): exit status 1');
    expect(log.warn.mock.calls[1][0]).toContain('error running hooks.poststop[2] (/bin/sh): exit status 2');
  });

  it('passes status "stopped" and no pid', () => {
    runPoststop(spec({ poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/log`] }] }), { id: 'c1', bundle: '/b' }, dir);
    expect(JSON.parse(logged())).toEqual({ ociVersion: '1.3.0', id: 'c1', status: 'stopped', bundle: '/b' });
  });
});
