// runc 1.1's exec rules that need no container: the process built from flags, and --cgroup paths.
import { describe, expect, test } from 'vitest';
import { processFromFlags, subCgroupPaths } from '../../src/container/exec';
import type { Process } from '../../src/oci';

const base: Process = {
  user: { uid: 0, gid: 0 },
  args: ['sh'],
  env: ['PATH=/bin'],
  cwd: '/',
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  terminal: true,
};

describe('processFromFlags', () => {
  test('args replaced, env and caps appended, terminal only from -t, user parsed', () => {
    const p = processFromFlags(base, { args: ['id'], env: ['A=b'], caps: ['CAP_CHOWN'], user: '5:6', additionalGids: ['7'] });
    expect(p.args).toEqual(['id']);
    expect(p.env).toEqual(['PATH=/bin', 'A=b']);
    expect(p.capabilities?.bounding).toEqual(['CAP_KILL', 'CAP_CHOWN']);
    expect(p.capabilities?.ambient).toBeUndefined();
    expect(p.terminal).toBe(false);
    expect(p.user).toEqual({ uid: 5, gid: 6, additionalGids: [7] });
    expect(base.env).toEqual(['PATH=/bin']);
  });
  test('ambient only with an inheritable set in the spec', () => {
    const p = processFromFlags({ ...base, capabilities: { ...base.capabilities, inheritable: [] } }, { args: ['id'], caps: ['CAP_CHOWN'] });
    expect(p.capabilities?.ambient).toEqual(['CAP_CHOWN']);
  });
  test("runc's errors", () => {
    expect(() => processFromFlags(base, { args: ['id'], user: 'x' })).toThrow('parsing x as int for uid failed');
    expect(() => processFromFlags(base, { args: ['id'], user: '1:y' })).toThrow('parsing y as int for gid failed');
    expect(() => processFromFlags(base, { args: ['id'], additionalGids: ['-1'] })).toThrow('additional-gids must be a positive number -1');
    expect(() => processFromFlags(base, { args: ['id'], cwd: 'rel' })).toThrow('Cwd must be an absolute path');
  });
});

describe('subCgroupPaths', () => {
  const v1 = { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c', pids: '/sys/fs/cgroup/pids/c' };
  test('a bare path applies to every hierarchy', () => {
    expect(subCgroupPaths(v1, ['s'])).toEqual({ 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c/s', pids: '/sys/fs/cgroup/pids/c/s' });
  });
  test('a controller names its hierarchy; the others stay', () => {
    expect(subCgroupPaths(v1, ['cpuacct:s'])).toEqual({ ...v1, 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c/s' });
  });
  test('refusals', () => {
    expect(() => subCgroupPaths(v1, ['a:b:c'])).toThrow('invalid --cgroup argument: a:b:c');
    expect(() => subCgroupPaths(v1, ['s', 'pids:t'])).toThrow('missing <controller>: prefix');
    expect(() => subCgroupPaths(v1, [':s'])).toThrow('empty <controller> prefix');
    expect(() => subCgroupPaths(v1, ['../x'])).toThrow('../x is not a sub cgroup path');
    expect(() => subCgroupPaths(v1, ['memory:s'])).toThrow('unknown controller memory in SubCgroupPaths');
    expect(() => subCgroupPaths({ '': '/sys/fs/cgroup/c' }, ['pids:s'])).toThrow('unknown controller pids');
  });
});
