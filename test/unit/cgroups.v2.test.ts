// Tests for the cgroup v2 driver (src/cgroups/v2/) against a fake cgroupfs: plain files in a temp dir,
// every write(2) recorded, so each resource's files, values and conversions are checked without root.
// The device filter is checked as bytes and by running it in a small eBPF interpreter.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Records every write with the path of its fd, so line-by-line files (io.max, rdma.max) can be checked.
const writes: { file: string; data: string }[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    let file = '?';
    try {
      file = real.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      /* not a file */
    }
    writes.push({ file, data: typeof data === 'string' ? data : Buffer.from(data.buffer).toString() });
    return (real.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof real.writeSync;
  // A new cgroup comes with its interface files; a plain mkdir (not -p) under a fake cgroup gets some too.
  const mkdirSync = ((p: fs.PathLike, opts?: fs.Mode | fs.MakeDirectoryOptions) => {
    const r = real.mkdirSync(p, opts as fs.MakeDirectoryOptions);
    const recursive = typeof opts === 'object' && opts !== null && opts.recursive;
    if (!recursive && real.existsSync(path.join(path.dirname(String(p)), 'cgroup.controllers'))) {
      for (const f of ['cgroup.controllers', 'cgroup.subtree_control', 'cgroup.procs']) real.writeFileSync(path.join(String(p), f), '');
    }
    return r;
  }) as typeof real.mkdirSync;
  return { ...real, default: { ...real, writeSync, mkdirSync }, writeSync, mkdirSync };
});

import { V2Driver } from '../../src/cgroups/v2';
import { sharesToWeight, cpuMax } from '../../src/cgroups/v2/cpu';
import { swapToV2 } from '../../src/cgroups/v2/memory';
import { blkioWeightToIoWeight } from '../../src/cgroups/v2/io';
import { parseIoStat } from '../../src/cgroups/v2/stats';
import { buildDeviceProgram, DeviceEmulator, rulesFromSpec, type DeviceRule } from '../../src/cgroups/v2/devicefilter';
import { defaultDeviceRules } from '../../src/cgroups/devices';

const DEFAULT_DEVICE_RULES = rulesFromSpec(defaultDeviceRules());
import { encode, asm, OP, type Insn } from '../../src/cgroups/v2/bpf';
import { hierarchyRoot } from '../../src/cgroups/v2/tree';
import type { LinuxResources } from '../../src/oci';

const RESOURCE_FILES = [
  'cgroup.procs', 'cgroup.freeze', 'cgroup.subtree_control', 'cgroup.events',
  'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems',
  'memory.max', 'memory.low', 'memory.high', 'memory.swap.max', 'memory.current', 'memory.oom.group',
  'io.weight', 'io.max', 'pids.max', 'hugetlb.2MB.max', 'rdma.max',
];
const ALL = 'cpuset cpu io memory hugetlb pids rdma misc';

let root: string;
let dir: string;
let programs: Buffer[];
let warnings: string[];

const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const writesTo = (f: string) => writes.filter((w) => w.file === path.join(dir, f)).map((w) => w.data);
const driver = () =>
  new V2Driver(dir, { installDeviceFilter: (_d, p) => void programs.push(p), warn: (m) => void warnings.push(m) });
const apply = (r: LinuxResources) => driver().apply(r);

beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-cg2-')));
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), `${ALL}\n`);
  fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
  dir = path.join(root, 'ctr');
  fs.mkdirSync(dir);
  for (const f of RESOURCE_FILES) fs.writeFileSync(path.join(dir, f), '');
  fs.writeFileSync(path.join(dir, 'cgroup.controllers'), `${ALL}\n`);
  fs.writeFileSync(path.join(dir, 'memory.current'), '1000\n');
  writes.length = 0;
  programs = [];
  warnings = [];
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('cpu', () => {
  it('converts shares to cpu.weight with runc 1.1 formula', () => {
    expect(sharesToWeight(0)).toBe(0);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    // Clamped to the kernel's shares range instead of wrapping.
    expect(sharesToWeight(1)).toBe(1);
    expect(sharesToWeight(1_000_000)).toBe(10000);
    apply({ cpu: { shares: 512 } });
    expect(read('cpu.weight')).toBe('20');
  });

  it('writes cpu.max from quota and period, "max" for no quota and 100000 for no period', () => {
    expect(cpuMax(50000, 100000)).toBe('50000 100000');
    expect(cpuMax(-1, 200000)).toBe('max 200000');
    expect(cpuMax(20000, undefined)).toBe('20000 100000');
    apply({ cpu: { quota: 50000, period: 250000 } });
    expect(read('cpu.max')).toBe('50000 250000');
    apply({ cpu: { period: 300000 } });
    expect(read('cpu.max')).toBe('max 300000');
  });

  it('leaves cpu.max and cpu.weight alone when nothing asks for them', () => {
    apply({ cpu: { cpus: '0' } });
    expect(writesTo('cpu.max')).toEqual([]);
    expect(writesTo('cpu.weight')).toEqual([]);
    expect(read('cpuset.cpus')).toBe('0');
  });

  it('writes cpu.max.burst and cpu.idle', () => {
    apply({ cpu: { quota: 10000, burst: 5000, idle: 1 } });
    expect(read('cpu.max.burst')).toBe('5000');
    expect(read('cpu.idle')).toBe('1');
  });

  it('ignores the realtime fields with a warning', () => {
    apply({ cpu: { realtimeRuntime: 1000, realtimePeriod: 10000 } });
    expect(warnings.join('\n')).toMatch(/linux\.resources\.cpu\.realtimeRuntime.*ignored/);
  });
});

describe('cpuset', () => {
  it('writes cpuset.cpus and cpuset.mems', () => {
    apply({ cpu: { cpus: '0-1', mems: '0' } });
    expect(read('cpuset.cpus')).toBe('0-1');
    expect(read('cpuset.mems')).toBe('0');
  });
});

describe('memory', () => {
  it('converts v1 memory+swap to swap.max', () => {
    expect(swapToV2(200, 100)).toBe(100);
    expect(swapToV2(-1, 100)).toBe(-1);
    expect(swapToV2(0, -1)).toBe(-1);
    expect(swapToV2(undefined, 100)).toBe(0);
    expect(() => swapToV2(100, undefined)).toThrow('linux.resources.memory.swap: cannot set a swap limit without a memory limit');
    expect(() => swapToV2(50, 100)).toThrow(/memory\.swap: memory\+swap limit \(50\) must be >= the memory limit \(100\)/);
  });

  it('writes memory.max, memory.low and memory.swap.max', () => {
    apply({ memory: { limit: 104857600, reservation: 52428800, swap: 209715200 } });
    expect(read('memory.max')).toBe('104857600');
    expect(read('memory.low')).toBe('52428800');
    expect(read('memory.swap.max')).toBe('104857600');
  });

  it('writes "max" for -1 and swap 0 when swap equals the limit', () => {
    apply({ memory: { limit: -1 } });
    expect(read('memory.max')).toBe('max');
    expect(read('memory.swap.max')).toBe('max');
    apply({ memory: { limit: 1 << 24, swap: 1 << 24 } });
    expect(read('memory.swap.max')).toBe('0');
  });

  it('does not touch memory.high or memory.oom.group outside unified', () => {
    apply({ memory: { limit: 1 << 24 } });
    expect(writesTo('memory.high')).toEqual([]);
    expect(writesTo('memory.oom.group')).toEqual([]);
  });

  it('checkBeforeUpdate refuses a limit below the current usage', () => {
    expect(() => apply({ memory: { limit: 500, checkBeforeUpdate: true } })).toThrow(
      'linux.resources.memory.limit: rejecting memory limit 500 below the current usage 1000',
    );
    apply({ memory: { limit: 5000, checkBeforeUpdate: true } });
    expect(read('memory.max')).toBe('5000');
  });

  it('ignores a missing memory.swap.max for "max" but not for a real swap limit', () => {
    fs.rmSync(path.join(dir, 'memory.swap.max'));
    apply({ memory: { limit: -1 } });
    expect(() => apply({ memory: { limit: 100, swap: 200 } })).toThrow('linux.resources.memory.swap: write memory.swap.max: no such file or directory');
  });

  it('ignores the v1-only fields with a warning naming each', () => {
    apply({ memory: { kernel: 1 << 24, kernelTCP: 1 << 20, swappiness: 10, disableOOMKiller: true } });
    const w = warnings.join('\n');
    for (const f of ['kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller']) expect(w).toContain(`linux.resources.memory.${f}:`);
    expect(writes.filter((x) => x.file.includes('memory.'))).toEqual([]);
  });
});

describe('io', () => {
  it('converts blkio weight to io.weight', () => {
    expect(blkioWeightToIoWeight(0)).toBe(0);
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    apply({ blockIO: { weight: 100 } });
    expect(read('io.weight')).toBe('910');
  });

  it('uses io.bfq.weight unconverted when BFQ is there, with per-device weights', () => {
    fs.writeFileSync(path.join(dir, 'io.bfq.weight'), 'default 100\n');
    apply({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } });
    expect(writesTo('io.bfq.weight')).toEqual(['300', '8:0 200']);
    expect(writesTo('io.weight')).toEqual([]);
  });

  it('skips per-device weights with a warning without BFQ', () => {
    apply({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 200 }] } });
    expect(warnings.join()).toMatch(/blockIO\.weightDevice\[0\].*ignored/);
  });

  it('writes every throttle as its own io.max line', () => {
    apply({
      blockIO: {
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
      },
    });
    expect(writesTo('io.max')).toEqual(['8:0 rbps=1048576', '8:0 wbps=2097152', '8:16 riops=100', '8:16 wiops=200']);
  });
});

describe('pids, hugetlb, rdma', () => {
  it('writes pids.max, "max" for -1 and 0', () => {
    apply({ pids: { limit: 42 } });
    expect(read('pids.max')).toBe('42');
    apply({ pids: { limit: -1 } });
    expect(read('pids.max')).toBe('max');
    apply({ pids: { limit: 0 } });
    expect(read('pids.max')).toBe('max');
  });

  it('writes hugetlb.<size>.max and names an unknown size', () => {
    apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
    expect(read('hugetlb.2MB.max')).toBe('4194304');
    expect(() => apply({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] })).toThrow(
      'linux.resources.hugepageLimits[0].limit: write hugetlb.1GB.max: no such file or directory',
    );
  });

  it('writes one rdma.max line per device with only the given limits', () => {
    apply({ rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 5 } } });
    expect(writesTo('rdma.max')).toEqual(['mlx5_0 hca_handle=3 hca_object=10000', 'mlx4_0 hca_object=5']);
  });
});

describe('unified', () => {
  it('is written verbatim and last, over the typed fields', () => {
    apply({ memory: { limit: 1000000 }, unified: { 'memory.max': '2000000', 'memory.high': '1500000', 'memory.oom.group': '1' } });
    expect(read('memory.max')).toBe('2000000');
    expect(read('memory.high')).toBe('1500000');
    expect(read('memory.oom.group')).toBe('1');
    const files = writes.map((w) => path.basename(w.file));
    expect(files.lastIndexOf('memory.max')).toBeGreaterThan(files.indexOf('pids.max') === -1 ? 0 : files.indexOf('pids.max'));
    expect(files.slice(-3)).toEqual(['memory.max', 'memory.high', 'memory.oom.group']);
  });

  it('refuses a path for a key', () => {
    expect(() => apply({ unified: { '../memory.max': '1' } })).toThrow('linux.resources.unified["../memory.max"]: must be a file name (no slashes)');
  });

  it('names a controller that is not available', () => {
    fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'cpu\n');
    expect(() => apply({ unified: { 'misc.max': 'res_a 1' } })).toThrow(
      'linux.resources.unified["misc.max"]: cannot be set: controller "misc" not available',
    );
  });

  it('passes the kernel error on for an available controller', () => {
    expect(() => apply({ unified: { 'memory.nonexistent': '1' } })).toThrow(
      'linux.resources.unified["memory.nonexistent"]: write memory.nonexistent: no such file or directory',
    );
  });
});

describe('errors name the field', () => {
  it('names the field and the file the kernel refused', () => {
    // A directory in place of the file makes the "kernel" refuse the write.
    fs.rmSync(path.join(dir, 'cpu.max'));
    fs.mkdirSync(path.join(dir, 'cpu.max'));
    expect(() => apply({ cpu: { quota: 1000 } })).toThrow('linux.resources.cpu.quota: write cpu.max: illegal operation on a directory');
  });

  it('says which controller is missing', () => {
    fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'cpu\n');
    fs.rmSync(path.join(dir, 'pids.max'));
    expect(() => apply({ pids: { limit: 5 } })).toThrow(
      /^linux\.resources\.pids\.limit: write pids\.max: no such file or directory \(the pids controller is not available in /,
    );
  });

  it('applies nothing for an empty resources object, not even a device filter (an update keeps the installed one)', () => {
    apply({});
    expect(writes).toEqual([]);
    expect(programs).toHaveLength(0);
    apply({ devices: defaultDeviceRules() });
    expect(programs).toHaveLength(1);
  });
});

describe('create and destroy', () => {
  it('finds the hierarchy root', () => {
    expect(hierarchyRoot(path.join(dir, 'a/b'))).toBe(root);
    expect(hierarchyRoot(dir)).toBe(root);
  });

  it('makes the path and enables the root controllers in every ancestor, not in the leaf', () => {
    const leaf = path.join(dir, 'pod', 'ctr2');
    const made = new V2Driver(leaf).create();
    expect(made).toEqual([path.join(dir, 'pod'), leaf]);
    const enable = '+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc';
    expect(writes.filter((w) => w.file.endsWith('cgroup.subtree_control'))).toEqual([
      { file: path.join(root, 'cgroup.subtree_control'), data: enable },
      { file: path.join(dir, 'cgroup.subtree_control'), data: enable },
      { file: path.join(dir, 'pod', 'cgroup.subtree_control'), data: enable },
    ]);
    expect(new V2Driver(leaf).create()).toEqual([]);
  });

  it('removes nested cgroups deepest first; a missing directory is fine', () => {
    fs.mkdirSync(path.join(dir, 'x', 'y', 'z'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'w'), { recursive: true });
    // rmdir of a real cgroup succeeds with its interface files in it; here they must go first.
    for (const f of fs.readdirSync(dir)) if (!['x', 'w'].includes(f)) fs.rmSync(path.join(dir, f));
    const d = driver();
    d.destroy();
    expect(fs.existsSync(dir)).toBe(false);
    d.destroy();
  });

  it('joins by writing cgroup.procs and lists pids of the whole subtree', () => {
    driver().join(1234);
    expect(read('cgroup.procs')).toBe('1234');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'cgroup.procs'), '7\n8\n');
    expect(driver().pids()).toEqual([1234, 7, 8]);
  });

  it('reports pause state from cgroup.freeze and freezes until cgroup.events agrees', () => {
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    expect(driver().isPaused()).toBe(false);
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    driver().freeze(true);
    expect(read('cgroup.freeze')).toBe('1');
    expect(driver().isPaused()).toBe(true);
  });

  it('kills with cgroup.kill for SIGKILL', () => {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '');
    driver().kill(9);
    expect(read('cgroup.kill')).toBe('1');
  });
});

describe('stats', () => {
  it('reads runc 1.1 shaped stats from the v2 files', () => {
    const put = (f: string, s: string) => fs.writeFileSync(path.join(dir, f), s);
    put('cpu.stat', 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n');
    put('memory.stat', 'anon 4096\nfile 8192\nkernel_stack 16384\n');
    put('memory.current', '12288\n');
    put('memory.max', 'max\n');
    put('memory.swap.current', '100\n');
    put('memory.swap.max', '1000\n');
    put('pids.current', '3\n');
    put('pids.max', 'max\n');
    put('io.stat', '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n');
    put('hugetlb.2MB.current', '2097152\n');
    put('hugetlb.2MB.events', 'max 4\n');
    const st = driver().stats();
    expect(st.cpu).toEqual({ usage: { total: 1500000, user: 1000000, kernel: 500000 }, throttling: { periods: 10, throttledPeriods: 2, throttledTime: 300000 } });
    expect(st.memory.raw).toEqual({ anon: 4096, file: 8192, kernel_stack: 16384 });
    expect(st.memory.cache).toBe(8192);
    expect(st.memory.usage).toEqual({ usage: 12288, limit: 2 ** 64, failcnt: 0 });
    // v1 compatible: swap is memory+swap.
    expect(st.memory.swap).toEqual({ usage: 12388, limit: 2 ** 64, failcnt: 0 });
    expect(st.pids).toEqual({ current: 3, limit: 0 });
    expect(st.blkio).toEqual({
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 4096 },
        { major: 8, minor: 0, op: 'Write', value: 8192 },
      ],
      io_serviced_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 1 },
        { major: 8, minor: 0, op: 'Write', value: 2 },
      ],
    });
    expect(st.hugetlb).toEqual({ '2MB': { usage: 2097152, failcnt: 4 } });
    expect(st.network_interfaces).toBeNull();
  });

  it('adds the memory limit to a finite swap limit and counts processes without pids.current', () => {
    const put = (f: string, s: string) => fs.writeFileSync(path.join(dir, f), s);
    put('memory.stat', 'file 0\n');
    put('memory.current', '10\n');
    put('memory.max', '100\n');
    put('memory.swap.current', '1\n');
    put('memory.swap.max', '50\n');
    put('cgroup.procs', '1\n2\n');
    const st = driver().stats();
    expect(st.memory.swap).toEqual({ usage: 11, limit: 150, failcnt: 0 });
    expect(st.pids).toEqual({ current: 2, limit: 0 });
  });

  it('parses several devices in io.stat', () => {
    expect(parseIoStat('8:0 rbytes=1 wbytes=2\n253:1 rios=3\n').io_serviced_recursive).toEqual([{ major: 253, minor: 1, op: 'Read', value: 3 }]);
  });
});

// A minimal interpreter for the instructions the filter uses, over struct bpf_cgroup_dev_ctx.
function run(bytes: Buffer, type: 'b' | 'c', major: number, minor: number, access: string): number {
  const acc = [...access].reduce((a, c) => a | (c === 'm' ? 1 : c === 'r' ? 2 : 4), 0);
  const ctx = [(acc << 16) | (type === 'b' ? 1 : 2), major, minor];
  const r: bigint[] = new Array(11).fill(0n);
  const u32 = (v: bigint) => v & 0xffffffffn;
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    const code = bytes[pc * 8];
    const dst = bytes[pc * 8 + 1] & 0xf;
    const src = bytes[pc * 8 + 1] >> 4;
    const off = bytes.readInt16LE(pc * 8 + 2);
    const imm = BigInt(bytes.readInt32LE(pc * 8 + 4));
    const immU64 = BigInt.asUintN(64, imm);
    pc++;
    switch (code) {
      case OP.LDX_MEM_W:
        expect(src).toBe(1);
        r[dst] = BigInt(ctx[off / 4] >>> 0);
        break;
      case OP.ALU32_AND_K: r[dst] = u32(r[dst] & u32(imm)); break;
      case OP.ALU32_RSH_K: r[dst] = u32(r[dst]) >> imm; break;
      case OP.ALU32_MOV_K: r[dst] = u32(imm); break;
      case OP.ALU32_MOV_X: r[dst] = u32(r[src]); break;
      case OP.JNE_K: if (r[dst] !== immU64) pc += off; break;
      case OP.JNE_X: if (r[dst] !== r[src]) pc += off; break;
      case OP.EXIT: return Number(r[0]);
      default: throw new Error(`unknown opcode 0x${code.toString(16)}`);
    }
  }
  throw new Error('program did not exit');
}

describe('device filter', () => {
  const hex = (b: Buffer) => b.toString('hex').match(/.{16}/g);

  it('encodes instructions as struct bpf_insn with resolved jumps', () => {
    const prog: Insn[] = [asm.loadWord(2, 1, 4), asm.jneImm(2, 7, 'end'), asm.mov32(0, 1), asm.exit(), { ...asm.mov32(0, 0), label: 'end' }, asm.exit()];
    expect(hex(encode(prog))).toEqual([
      '6112040000000000', // r2 = *(u32 *)(r1 + 4)
      '5502020007000000', // if r2 != 7 goto +2
      'b400000001000000', // w0 = 1
      '9500000000000000', // exit
      'b400000000000000', // w0 = 0
      '9500000000000000', // exit
    ]);
  });

  it('builds the program for a deny-all + allow c 1:3 rw ruleset', () => {
    const p = buildDeviceProgram([
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false },
      { type: 'c', major: 1, minor: 3, access: 'rw', allow: true },
    ]);
    expect(p.defaultAllow).toBe(false);
    expect(hex(p.bytes)).toEqual([
      '6112000000000000', // r2 = ctx->access_type
      '54020000ffff0000', // w2 &= 0xffff
      '6113000000000000', // r3 = ctx->access_type
      '7403000010000000', // w3 >>= 16
      '6114040000000000', // r4 = ctx->major
      '6115080000000000', // r5 = ctx->minor
      '5502070002000000', // if r2 != CHAR goto block-1
      'bc31000000000000', // w1 = w3
      '5401000006000000', // w1 &= READ|WRITE
      '5d31040000000000', // if r1 != r3 goto block-1
      '5504030001000000', // if r4 != 1 goto block-1
      '5505020003000000', // if r5 != 3 goto block-1
      'b400000001000000', // w0 = 1
      '9500000000000000', // exit
      'b400000000000000', // block-1: w0 = 0
      '9500000000000000', // exit
    ]);
    expect(run(p.bytes, 'c', 1, 3, 'r')).toBe(1);
    expect(run(p.bytes, 'c', 1, 3, 'rw')).toBe(1);
    expect(run(p.bytes, 'c', 1, 3, 'm')).toBe(0);
    expect(run(p.bytes, 'c', 1, 5, 'r')).toBe(0);
    expect(run(p.bytes, 'b', 1, 3, 'r')).toBe(0);
  });

  it('applies runc default rules after the config ones', () => {
    const rules = rulesFromSpec([{ allow: false, access: 'rwm' }, ...defaultDeviceRules()]);
    expect(rules[0]).toEqual({ type: 'a', major: -1, minor: -1, access: 'rwm', allow: false });
    expect(rules.slice(1)).toEqual(DEFAULT_DEVICE_RULES);
    const p = buildDeviceProgram(rules).bytes;
    for (const [maj, min] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [10, 200], [136, 0], [136, 99]]) {
      expect(run(p, 'c', maj, min, 'rwm'), `c ${maj}:${min}`).toBe(1);
    }
    // Any device may be created, but not opened.
    expect(run(p, 'b', 8, 0, 'm')).toBe(1);
    expect(run(p, 'b', 8, 0, 'r')).toBe(0);
    expect(run(p, 'b', 8, 0, 'rm')).toBe(0);
    expect(run(p, 'c', 4, 1, 'w')).toBe(0);
  });

  it('orders the exceptions by major, minor, type as runc does', () => {
    const emu = new DeviceEmulator();
    for (const r of DEFAULT_DEVICE_RULES) emu.apply(r);
    expect(emu.exceptions().map((r) => `${r.type} ${r.major}:${r.minor} ${r.access}`)).toEqual([
      'b -1:-1 m', 'c -1:-1 m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
      'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:-1 rwm',
    ]);
  });

  it('merges and removes permissions, and a later "a" rule resets everything', () => {
    const allowAll: DeviceRule[] = [
      { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false },
      { type: 'c', major: 1, minor: 3, access: 'r', allow: true },
      { type: 'c', major: 1, minor: 3, access: 'w', allow: true },
      { type: 'c', major: 1, minor: 5, access: 'rwm', allow: true },
      { type: 'c', major: 1, minor: 5, access: 'w', allow: false },
    ];
    const p = buildDeviceProgram(allowAll).bytes;
    expect(run(p, 'c', 1, 3, 'rw')).toBe(1);
    expect(run(p, 'c', 1, 5, 'r')).toBe(1);
    expect(run(p, 'c', 1, 5, 'w')).toBe(0);
    const open = buildDeviceProgram([...allowAll, { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true }, { type: 'b', major: 8, minor: -1, access: 'w', allow: false }]);
    expect(open.defaultAllow).toBe(true);
    expect(run(open.bytes, 'c', 4, 4, 'rw')).toBe(1);
    expect(run(open.bytes, 'b', 8, 3, 'r')).toBe(1);
    expect(run(open.bytes, 'b', 8, 3, 'w')).toBe(0);
    expect(run(open.bytes, 'b', 9, 3, 'w')).toBe(1);
  });

  it('refuses to punch a hole in a wildcard rule, as runc does', () => {
    expect(() =>
      buildDeviceProgram([
        { type: 'c', major: 136, minor: -1, access: 'rwm', allow: true },
        { type: 'c', major: 136, minor: 4, access: 'r', allow: false },
      ]),
    ).toThrow('device rule c 136:4 r cannot be applied: it would punch a hole in the wildcard rule c 136:* rwm');
  });

  it('checks the spec rules', () => {
    expect(() => rulesFromSpec([{ allow: true, type: 'c', major: 1, minor: 3 }])).toThrow('linux.resources.devices[0].access: must not be empty');
    expect(() => rulesFromSpec([{ allow: true, access: 'rx' }])).toThrow('linux.resources.devices[0].access: must be a combination of r, w and m: "rx"');
  });

  it('apply installs the program built from the config and runc defaults', () => {
    apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }, ...defaultDeviceRules()] });
    expect(programs).toHaveLength(1);
    expect(run(programs[0], 'b', 7, 0, 'r')).toBe(1);
    expect(run(programs[0], 'b', 7, 0, 'w')).toBe(0);
    expect(run(programs[0], 'c', 1, 3, 'rw')).toBe(1);
  });

  it('an install failure outside a user namespace is an error naming devices', () => {
    const d = new V2Driver(dir, { installDeviceFilter: () => { throw new Error('bpf(BPF_PROG_LOAD): operation not permitted'); }, warn: () => {} });
    const inUserns = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') !== '0 0 4294967295';
    const devices = [{ allow: false, access: 'rwm' }, ...defaultDeviceRules()];
    if (inUserns) expect(() => d.apply({ devices })).not.toThrow();
    else expect(() => d.apply({ devices })).toThrow('linux.resources.devices: cannot install the device filter: bpf(BPF_PROG_LOAD): operation not permitted');
  });
});
