// Tests for v1Stats (src/cgroups/v1/stats.ts) against a fake cgroupfs tree in a temp dir: runc's
// parsing of each controller's files, its fallbacks and omissions, and exact uint64 printing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBlkioFile, parseCpuList, statsJson, v1Stats } from '../../src/cgroups/v1/stats';
import { eventValue, parseGoDuration } from '../../src/container/events';
import { filterPsTable } from '../../src/container/ps';

let root: string;
const dir = (name: string, files: Record<string, string>) => {
  const d = path.join(root, name, 'ctr');
  fs.mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(d, f), v);
  return d;
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'v1stats-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const memoryFiles = (prefix: string, usage: string, max: string, limit: string, failcnt: string) => ({
  [`${prefix}.usage_in_bytes`]: usage,
  [`${prefix}.max_usage_in_bytes`]: max,
  [`${prefix}.limit_in_bytes`]: limit,
  [`${prefix}.failcnt`]: failcnt,
});

function fullTree(): Record<string, string> {
  return {
    'cpu,cpuacct': dir('cpu,cpuacct', {
      'cpuacct.stat': 'user 150\nsystem 25\n',
      'cpuacct.usage': '123456789\n',
      'cpuacct.usage_percpu': '100 200 \n',
      'cpuacct.usage_all': 'cpu user system\n0 70 30\n1 150 50\n',
      'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 999\nnr_bursts 0\nburst_time 0\n',
    }),
    cpuset: dir('cpuset', {
      'cpuset.cpus': '0-2,5\n',
      'cpuset.mems': '0\n',
      'cpuset.cpu_exclusive': '0\n',
      'cpuset.mem_hardwall': '1\n',
      'cpuset.mem_exclusive': '0\n',
      'cpuset.memory_migrate': '0\n',
      'cpuset.memory_spread_page': '0\n',
      'cpuset.memory_spread_slab': '0\n',
      'cpuset.memory_pressure': '0\n',
      'cpuset.sched_load_balance': '1\n',
      'cpuset.sched_relax_domain_level': '-1\n',
    }),
    memory: dir('memory', {
      'memory.stat': 'rss 4096\ncache 8192\nhierarchical_memory_limit 9223372036854771712\n',
      ...memoryFiles('memory', '1000', '2000', '9223372036854771712', '3'),
      ...memoryFiles('memory.memsw', '1100', '2100', '9223372036854771712', '0'),
      ...memoryFiles('memory.kmem', '10', '20', '9223372036854771712', '0'),
      ...memoryFiles('memory.kmem.tcp', '0', '0', '9223372036854771712', '0'),
    }),
    pids: dir('pids', { 'pids.current': '3\n', 'pids.max': 'max\n' }),
    blkio: dir('blkio', {
      'blkio.bfq.io_serviced_recursive': '8:0 Read 5\n8:0 Write 0\n8:0 Total 5\nTotal 5\n',
      'blkio.bfq.io_service_bytes_recursive': '8:0 Read 20480\nTotal 20480\n',
      'blkio.throttle.io_serviced_recursive': '8:16 Read 1\nTotal 1\n',
      'blkio.throttle.io_service_bytes_recursive': '8:16 Read 4096\nTotal 4096\n',
    }),
    hugetlb: dir('hugetlb', {
      'hugetlb.2MB.usage_in_bytes': '2097152\n',
      'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
      'hugetlb.2MB.failcnt': '1\n',
      'hugetlb.2MB.limit_in_bytes': '9223372036854771712\n',
      'hugetlb.1GB.usage_in_bytes': '0\n',
      'hugetlb.1GB.max_usage_in_bytes': '0\n',
      'hugetlb.1GB.failcnt': '0\n',
    }),
  };
}

describe('v1Stats', () => {
  it('reads every controller as runc does, in runc key order', () => {
    const s = v1Stats(fullTree());
    expect(s.cpu).toEqual({
      usage: {
        total: 123456789,
        percpu: [100, 200],
        // usage_all columns are "cpu user system": kernel is the system column.
        percpu_kernel: [30, 50],
        percpu_user: [70, 150],
        // USER_HZ ticks (100 per second) in nanoseconds.
        kernel: 250_000_000,
        user: 1_500_000_000,
      },
      throttling: { periods: 10, throttledPeriods: 2, throttledTime: 999 },
    });
    expect(Object.keys(s.cpu.usage)).toEqual(['total', 'percpu', 'percpu_kernel', 'percpu_user', 'kernel', 'user']);
    expect(s.cpuset).toMatchObject({ cpus: [0, 1, 2, 5], mems: [0], mem_hardwall: 1, sched_load_balance: 1, sched_relax_domain_level: -1 });
    expect(s.memory.cache).toBe(8192);
    expect(s.memory.usage).toEqual({ limit: 9223372036854771712, usage: 1000, max: 2000, failcnt: 3 });
    expect(s.memory.swap).toEqual({ limit: 9223372036854771712, usage: 1100, max: 2100, failcnt: 0 });
    expect(s.memory.kernel).toEqual({ limit: 9223372036854771712, usage: 10, max: 20, failcnt: 0 });
    // usage and max are omitempty, limit and failcnt are not.
    expect(JSON.parse(JSON.stringify(s.memory.kernelTCP))).toEqual({ limit: 9223372036854771712, failcnt: 0 });
    expect(Object.keys(s.memory.raw!)).toEqual(['cache', 'hierarchical_memory_limit', 'rss']);
    expect(Object.keys(JSON.parse(JSON.stringify(s.memory)))).toEqual(['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw']);
    // pids.max "max" is no limit: omitted.
    expect(JSON.parse(JSON.stringify(s.pids))).toEqual({ current: 3 });
    // bfq comes before the throttle files; runc's key names and omitempty entries.
    expect(s.blkio).toEqual({
      ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 20480 }],
      ioServicedRecursive: [{ major: 8, op: 'Read', value: 5 }, { major: 8, op: 'Write' }, { major: 8, op: 'Total', value: 5 }],
    });
    expect(s.hugetlb).toEqual({ '1GB': { failcnt: 0 }, '2MB': { usage: 2097152, max: 4194304, failcnt: 1 } });
    expect(Object.keys(s.hugetlb)).toEqual(['1GB', '2MB']);
    expect(s.intel_rdt).toEqual({});
    expect(s.network_interfaces).toBeNull();
    expect(Object.keys(s)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  });

  it('omits zero throttling, a zero pids count, absent swap/kmem files and empty blkio', () => {
    const t = fullTree();
    fs.writeFileSync(path.join(t['cpu,cpuacct'], 'cpu.stat'), 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n');
    fs.writeFileSync(path.join(t.pids, 'pids.current'), '0\n');
    fs.writeFileSync(path.join(t.pids, 'pids.max'), '100\n');
    for (const f of fs.readdirSync(t.memory)) if (/memsw|kmem/.test(f)) fs.rmSync(path.join(t.memory, f));
    for (const f of fs.readdirSync(t.blkio)) fs.writeFileSync(path.join(t.blkio, f), 'Total 0\n');
    const out = JSON.parse(statsJson(v1Stats(t))) as Record<string, Record<string, unknown>>;
    expect(out.cpu.throttling).toEqual({});
    expect(out.pids).toEqual({ limit: 100 });
    expect(out.memory.swap).toEqual({ limit: 0, failcnt: 0 });
    expect(out.memory.kernel).toEqual({ limit: 0, failcnt: 0 });
    expect(out.blkio).toEqual({});
  });

  it('falls back to the throttle files when bfq has nothing, and to the non-recursive ones last', () => {
    const t = fullTree();
    fs.rmSync(path.join(t.blkio, 'blkio.bfq.io_serviced_recursive'));
    expect(v1Stats(t).blkio).toEqual({
      ioServiceBytesRecursive: [{ major: 8, minor: 16, op: 'Read', value: 4096 }],
      ioServicedRecursive: [{ major: 8, minor: 16, op: 'Read', value: 1 }],
    });
    for (const f of fs.readdirSync(t.blkio)) fs.rmSync(path.join(t.blkio, f));
    fs.writeFileSync(path.join(t.blkio, 'blkio.throttle.io_serviced'), '8:0 Write 7\n');
    fs.writeFileSync(path.join(t.blkio, 'blkio.throttle.io_service_bytes'), '8:0 Write 28672\n');
    expect(v1Stats(t).blkio).toEqual({
      ioServiceBytesRecursive: [{ major: 8, op: 'Write', value: 28672 }],
      ioServicedRecursive: [{ major: 8, op: 'Write', value: 7 }],
    });
  });

  it('gives zeroed sections for controllers that are not mounted', () => {
    const out = JSON.parse(statsJson(v1Stats({}))) as Record<string, unknown>;
    expect(out).toEqual({
      cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
      cpuset: { cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0, memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0 },
      memory: { usage: { limit: 0, failcnt: 0 }, swap: { limit: 0, failcnt: 0 }, kernel: { limit: 0, failcnt: 0 }, kernelTCP: { limit: 0, failcnt: 0 } },
      pids: {},
      blkio: {},
      hugetlb: {},
      intel_rdt: {},
      network_interfaces: null,
    });
  });

  it('finds controllers in co-mounted hierarchies and rejects malformed files', () => {
    const t = fullTree();
    fs.writeFileSync(path.join(t.memory, 'memory.stat'), 'rss\n');
    expect(() => v1Stats(t)).toThrow(/not in key value format/);
  });
});

describe('parsers', () => {
  it('prints uint64 values beyond 2^53 exactly, and 2^64 as MaxUint64', () => {
    expect(statsJson({ a: 9223372036854771712, b: 2 ** 64, c: [1, 2] })).toBe('{"a":9223372036854771712,"b":18446744073709551615,"c":[1,2]}');
  });
  it('parses cpu lists and blkio lines', () => {
    expect(parseCpuList('0-1,3,5-6\n')).toEqual([0, 1, 3, 5, 6]);
    expect(parseCpuList('\n')).toEqual([]);
    expect(parseBlkioFile('8:0 Read 1\n8:0 2\nTotal 3\n', 'f')).toEqual([{ major: 8, op: 'Read', value: 1 }, { major: 8, value: 2 }]);
    expect(() => parseBlkioFile('8:0\n', 'f')).toThrow(/malformed/);
  });
  it("parses Go durations as runc's --interval does", () => {
    expect(parseGoDuration('5s')).toBe(5e9);
    expect(parseGoDuration('100ms')).toBe(1e8);
    expect(parseGoDuration('1h2m3.5s')).toBe(3723.5e9);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('-1s')).toBe(-1e9);
    for (const bad of ['', '1', '1x', 's', '.s', '1s2']) expect(() => parseGoDuration(bad), bad).toThrow();
  });
  it('reads memory.events / cgroup.events keys', () => {
    expect(eventValue('low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n', 'oom_kill')).toBe(2);
    expect(eventValue('populated 0\nfrozen 0\n', 'populated')).toBe(0);
    expect(eventValue('populated 1\n', 'frozen')).toBeUndefined();
  });
  it('filters ps output to the given pids by the PID column, keeping the header', () => {
    const out = 'UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sleep\nroot  420    42 sh\n';
    expect(filterPsTable(out, [42])).toBe('UID   PID  PPID CMD\nroot   42     1 sleep\n');
    expect(filterPsTable('  PID COMMAND\n    7 x\n', [])).toBe('  PID COMMAND\n');
    expect(() => filterPsTable('USER COMMAND\nroot x\n', [1])).toThrow("couldn't find PID field in ps output");
  });
});
