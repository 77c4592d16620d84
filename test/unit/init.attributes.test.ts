// Unit tests for the process attributes of config.json: CPU/node list parsing and masks, the kernel
// encodings of scheduler, I/O priority, memory policy and persona, the memory policy applied through the
// faked koffi seam, mount labels and create's preflight.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullMask, idMask, parseIdList } from '../../src/oci/idlist';
import {
  applyMemoryPolicy,
  ioprioValue,
  mempolicyArgs,
  personalityValue,
  schedAttr,
  u64,
} from '../../src/init/attributes';
import { labelMountData } from '../../src/init/lsm';
import { preflight, type HostLsm } from '../../src/container/preflight';
import { execCPUAffinity } from '../../src/container/affinity';
import { setLibc } from '../../src/linux/libc';
import { fakeLibc } from './helpers/fakelibc';
import { SysError } from '../../src/linux/errors';
import type { Spec } from '../../src/oci';

const procfs = vi.hoisted(() => ({ writes: [] as [string, string][], fail: {} as Record<string, string> }));
vi.mock('../../src/linux/procfs', () => ({
  procfsWrite: (rel: string, data: string) => {
    procfs.writes.push([rel, data]);
    const code = procfs.fail[rel];
    if (code) throw Object.assign(new Error(`${code}: fake`), { code, errno: -({ ENOENT: 2, EINVAL: 22, EACCES: 13 } as Record<string, number>)[code] });
  },
}));
const log = vi.hoisted(() => ({ warn: vi.fn(), debug: vi.fn(), error: vi.fn(), log: vi.fn() }));
vi.mock('../../src/log', () => log);

const failWith = (call: string, errno: number) => () => {
  throw new SysError(call, errno);
};
const spec = (over: { process?: Partial<Spec['process']>; linux?: Spec['linux'] }): Spec => ({
  ociVersion: '1.3.0',
  process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['true'], ...over.process } as Spec['process'],
  linux: over.linux,
});

afterEach(() => {
  setLibc(undefined);
  procfs.writes = [];
  procfs.fail = {};
  vi.clearAllMocks();
});

describe('parseIdList and masks', () => {
  it('reads single ids and ranges, sorted and without repeats', () => {
    expect(parseIdList('7,0-3,2')).toEqual([0, 1, 2, 3, 7]);
    expect(parseIdList(' 1 , 1-1 ')).toEqual([1]);
    expect(parseIdList('')).toEqual([]);
  });

  it('names what is wrong', () => {
    expect(() => parseIdList('a')).toThrow('invalid CPU list element "a"');
    expect(() => parseIdList('1-')).toThrow('invalid CPU list element "1-"');
    expect(() => parseIdList('0,')).toThrow('invalid CPU list element ""');
    expect(() => parseIdList('5-2')).toThrow('invalid CPU range "5-2": start is greater than end');
    expect(() => parseIdList('8192')).toThrow('invalid CPU 8192: out of range (0-8191)');
    expect(() => parseIdList('1-99999999999999999999', 'memory policy node')).toThrow('invalid memory policy node "1-99999999999999999999"');
  });

  it('packs ids into 64-bit words, bit i of word w being id 64w+i', () => {
    expect(idMask([0, 1, 63])).toEqual(new BigUint64Array([0x8000000000000003n]));
    expect(idMask([64, 130])).toEqual(new BigUint64Array([0n, 1n, 4n]));
    expect(idMask([])).toEqual(new BigUint64Array(0));
    expect(fullMask(128)).toEqual(new BigUint64Array([0xffffffffffffffffn, 0xffffffffffffffffn]));
    expect(fullMask().length).toBe(128);
  });

  it('gives exec the initial and final masks, nothing for empty lists', () => {
    expect(execCPUAffinity({ initial: '1', final: '0-1' })).toEqual({ initial: new BigUint64Array([2n]), final: new BigUint64Array([3n]) });
    expect(execCPUAffinity({ initial: '' })).toEqual({ initial: undefined, final: undefined });
    expect(execCPUAffinity(undefined)).toEqual({ initial: undefined, final: undefined });
  });
});

describe('kernel encodings', () => {
  it('sched_attr: policy and flag numbers from linux/sched.h, u64 times', () => {
    expect(
      schedAttr({ policy: 'SCHED_DEADLINE', flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_DL_OVERRUN'], runtime: 1e7, deadline: 3e7, period: 3e7 }),
    ).toEqual({ policy: 6, flags: 0x05, nice: 0, priority: 0, runtime: 10_000_000n, deadline: 30_000_000n, period: 30_000_000n });
    expect(schedAttr({ policy: 'SCHED_RR', priority: 99 })).toMatchObject({ policy: 2, priority: 99, flags: 0 });
    expect(schedAttr({ policy: 'SCHED_BATCH', nice: -3, flags: ['SCHED_FLAG_UTIL_CLAMP_MAX', 'SCHED_FLAG_KEEP_PARAMS'] })).toMatchObject({
      policy: 3,
      nice: -3,
      flags: 0x50,
    });
    expect(schedAttr({ policy: 'SCHED_ISO' }).policy).toBe(4);
    expect(schedAttr({ policy: 'SCHED_IDLE' }).policy).toBe(5);
  });

  it('u64 clamps the 2^64 that 2^64-1 becomes in JSON', () => {
    expect(u64(2 ** 64)).toBe(0xffffffffffffffffn);
    expect(u64(undefined)).toBe(0n);
    expect(u64(12)).toBe(12n);
  });

  it('ioprio: class << 13 | level', () => {
    expect(ioprioValue({ class: 'IOPRIO_CLASS_RT', priority: 3 })).toBe((1 << 13) | 3);
    expect(ioprioValue({ class: 'IOPRIO_CLASS_BE', priority: 7 })).toBe((2 << 13) | 7);
    expect(ioprioValue({ class: 'IOPRIO_CLASS_IDLE' })).toBe(3 << 13);
  });

  it('set_mempolicy: mode with flag bits, a node mask, and maxnode one past the mask (the kernel reads maxnode-1 bits)', () => {
    expect(mempolicyArgs({ mode: 'MPOL_BIND', nodes: '0,2', flags: ['MPOL_F_STATIC_NODES'] })).toEqual({
      mode: 2 | (1 << 15),
      nodes: new BigUint64Array([5n]),
      maxnode: 65,
    });
    expect(mempolicyArgs({ mode: 'MPOL_INTERLEAVE', nodes: '64', flags: ['MPOL_F_RELATIVE_NODES', 'MPOL_F_NUMA_BALANCING'] })).toEqual({
      mode: 3 | (1 << 14) | (1 << 13),
      nodes: new BigUint64Array([0n, 1n]),
      maxnode: 129,
    });
    expect(mempolicyArgs({ mode: 'MPOL_LOCAL' })).toEqual({ mode: 4, nodes: new BigUint64Array(0), maxnode: 0 });
    expect(mempolicyArgs({ mode: 'MPOL_PREFERRED_MANY', nodes: '1' }).mode).toBe(5);
    expect(mempolicyArgs({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '1' }).mode).toBe(6);
  });

  it('persona: PER_LINUX and PER_LINUX32', () => {
    expect(personalityValue({ domain: 'LINUX' })).toBe(0);
    expect(personalityValue({ domain: 'LINUX32', flags: ['ignored'] })).toBe(8);
  });
});

// Scheduler, I/O priority, persona and the LSM exec labels are applied by the stub's final stage
// (test/integration/stage.test.ts); create's init sets the memory policy itself.
describe('applying the memory policy', () => {
  it('sets it on the calling thread', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyMemoryPolicy({ mode: 'MPOL_PREFERRED', nodes: '0' });
    applyMemoryPolicy(undefined);
    expect(calls).toEqual([['setMempolicy', 1, new BigUint64Array([1n]), 65]]);
  });

  it('reports a failure with the JSON path', () => {
    setLibc(fakeLibc({ setMempolicy: failWith('set_mempolicy', 22) }).libc);
    expect(() => applyMemoryPolicy({ mode: 'MPOL_BIND', nodes: '5' })).toThrow('linux.memoryPolicy: set_mempolicy: invalid argument');
  });
});

describe('mount labels', () => {
  it('adds the mount label as a quoted context= option, except where runc does not', () => {
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    expect(labelMountData('mode=755,size=65536k', label, 'tmpfs')).toBe(`mode=755,size=65536k,context="${label}"`);
    expect(labelMountData('', label, 'devpts')).toBe(`context="${label}"`);
    for (const t of ['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind']) expect(labelMountData('x=1', label, t)).toBe('x=1');
    expect(labelMountData('x=1', undefined, 'tmpfs')).toBe('x=1');
  });
});

describe('preflight', () => {
  const host = (over: Partial<HostLsm> = {}): HostLsm => ({ selinux: false, resctrl: false, lastCap: 40, ...over });

  it('refuses SELinux labels when SELinux is off, with runc\'s wording', () => {
    expect(() => preflight(spec({ process: { selinuxLabel: 'system_u:system_r:container_t:s0' } }), host())).toThrow(
      'process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported',
    );
    expect(() => preflight(spec({ linux: { mountLabel: 'system_u:object_r:container_file_t:s0' } }), host())).toThrow(
      'linux.mountLabel: selinux mount label is specified in config, but selinux is disabled or not supported',
    );
    expect(() => preflight(spec({ process: { selinuxLabel: 'l' }, linux: { mountLabel: 'm' } }), host({ selinux: true }))).not.toThrow();
    expect(() => preflight(spec({ process: { selinuxLabel: '' }, linux: { mountLabel: '' } }), host())).not.toThrow();
  });

  it('refuses intelRdt without resctrl, naming the schema runc names', () => {
    const rdt = (intelRdt: NonNullable<Spec['linux']>['intelRdt']) => () => preflight(spec({ linux: { intelRdt } }), host());
    expect(rdt({ l3CacheSchema: 'L3:0=f' })).toThrow(
      'linux.intelRdt.l3CacheSchema: intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled',
    );
    expect(rdt({ memBwSchema: 'MB:0=20' })).toThrow(
      'linux.intelRdt.memBwSchema: intelRdt.memBwSchema is specified in config, but Intel RDT/MBA is not enabled',
    );
    expect(rdt({ closID: 'x' })).toThrow('linux.intelRdt: intelRdt is specified in config, but Intel RDT is not supported or enabled');
    expect(rdt({ schemata: ['L3:0=f'] })).toThrow('linux.intelRdt: intelRdt is specified in config');
    expect(() => preflight(spec({ linux: { intelRdt: { closID: 'x' } } }), host({ resctrl: true }))).toThrow('not supported by ocirun yet');
  });

  it('warns once, as runc does, about capabilities the kernel lacks, and about persona flags', () => {
    preflight(
      spec({
        process: { capabilities: { bounding: ['CAP_KILL', 'CAP_BPF'], effective: ['CAP_BPF', 'CAP_PERFMON'], ambient: ['CAP_CHECKPOINT_RESTORE'] } },
        linux: { personality: { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE', 'X'] } },
      }),
      host({ lastCap: 37 }),
    );
    expect(log.warn.mock.calls).toEqual([
      ['ignoring unknown or unavailable capabilities: [CAP_BPF CAP_PERFMON CAP_CHECKPOINT_RESTORE]'],
      ['ignoring unsupported personality flags: [ADDR_NO_RANDOMIZE X] because personality flag has not supported at this time'],
    ]);
  });

  it('says nothing when every capability exists', () => {
    preflight(spec({ process: { capabilities: { bounding: ['CAP_CHECKPOINT_RESTORE'] } }, linux: { personality: { domain: 'LINUX' } } }), host());
    expect(log.warn).not.toHaveBeenCalled();
  });
});
