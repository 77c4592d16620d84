// Reading a v1 container's statistics into runc 1.1's stats document: cpuacct, cpu, cpuset, memory,
// pids, blkio and hugetlb files, with runc's parsing, fallbacks and omission rules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BlkioEntry, CgroupStats, MemoryEntry } from '../types';

// runc reads cpuacct.stat in USER_HZ and always assumes 100 ticks per second.
const CLOCK_TICKS = 100;
const NS_PER_SEC = 1_000_000_000;
export const MAX_UINT64 = 2 ** 64;

// The directory of the hierarchy a controller is mounted in ("cpu" may live in "cpu,cpuacct").
export function controllerDir(paths: Record<string, string>, controller: string): string | undefined {
  for (const [key, dir] of Object.entries(paths)) if (key.split(',').includes(controller)) return dir;
  return undefined;
}

function readOpt(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8');
}

// runc's fscommon.ParseUint: "max" is the largest uint64, negative numbers count as 0.
export function parseUint(text: string, where: string): number {
  const s = text.trim();
  if (s === 'max') return MAX_UINT64;
  if (/^\d+$/.test(s)) return Number(s);
  if (/^-\d+$/.test(s)) return 0;
  throw new Error(`unable to parse ${where}: ${JSON.stringify(s)}`);
}

const uintFile = (dir: string, file: string) => parseUint(read(dir, file), path.join(dir, file));

function keyValues(text: string, where: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    if (f.length !== 2) throw new Error(`line ${JSON.stringify(line)} is not in key value format (${where})`);
    out.push([f[0], parseUint(f[1], where)]);
  }
  return out;
}

function cpuacctStats(dir: string, s: CgroupStats): void {
  const stat = Object.fromEntries(keyValues(read(dir, 'cpuacct.stat'), 'cpuacct.stat'));
  s.cpu.usage.user = Math.floor((stat.user ?? 0) * NS_PER_SEC / CLOCK_TICKS);
  s.cpu.usage.kernel = Math.floor((stat.system ?? 0) * NS_PER_SEC / CLOCK_TICKS);
  s.cpu.usage.total = uintFile(dir, 'cpuacct.usage');
  s.cpu.usage.percpu = read(dir, 'cpuacct.usage_percpu').trim().split(/\s+/).filter(Boolean).map((v) => parseUint(v, 'cpuacct.usage_percpu'));
  // usage_all: a "cpu user system" header, then one line per cpu; lines of another width are skipped.
  const all = readOpt(dir, 'cpuacct.usage_all');
  const kernel: number[] = [];
  const user: number[] = [];
  for (const line of (all ?? '').split('\n').slice(1)) {
    const f = line.split(' ');
    if (f.length !== 3) continue;
    user.push(parseUint(f[1], 'cpuacct.usage_all'));
    kernel.push(parseUint(f[2], 'cpuacct.usage_all'));
  }
  s.cpu.usage.percpu_kernel = kernel;
  s.cpu.usage.percpu_user = user;
}

function cpuStats(dir: string, s: CgroupStats): void {
  const text = readOpt(dir, 'cpu.stat');
  if (text === undefined) return;
  for (const [k, v] of keyValues(text, 'cpu.stat')) {
    // All three are omitempty in runc's JSON.
    if (!v) continue;
    if (k === 'nr_periods') s.cpu.throttling.periods = v;
    else if (k === 'nr_throttled') s.cpu.throttling.throttledPeriods = v;
    else if (k === 'throttled_time') s.cpu.throttling.throttledTime = v;
  }
}

// "0-2,5" -> [0,1,2,5]
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid cpuset list ${JSON.stringify(text.trim())}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`invalid cpuset list ${JSON.stringify(text.trim())}`);
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

function cpusetStats(dir: string, s: CgroupStats): void {
  const c: Record<string, number | number[]> = {};
  const list = (file: string) => {
    const t = readOpt(dir, file);
    return t === undefined ? [] : parseCpuList(t);
  };
  const num = (file: string, signed = false) => {
    const t = readOpt(dir, file);
    if (t === undefined) return 0;
    if (signed) {
      const v = Number(t.trim());
      if (!Number.isInteger(v)) throw new Error(`unable to parse ${path.join(dir, file)}: ${JSON.stringify(t.trim())}`);
      return v;
    }
    return parseUint(t, path.join(dir, file));
  };
  // Key order as runc's CPUSet struct; empty lists are omitted (omitempty).
  const cpus = list('cpuset.cpus');
  if (cpus.length) c.cpus = cpus;
  c.cpu_exclusive = num('cpuset.cpu_exclusive');
  const mems = list('cpuset.mems');
  if (mems.length) c.mems = mems;
  c.mem_hardwall = num('cpuset.mem_hardwall');
  c.mem_exclusive = num('cpuset.mem_exclusive');
  c.memory_migrate = num('cpuset.memory_migrate');
  c.memory_spread_page = num('cpuset.memory_spread_page');
  c.memory_spread_slab = num('cpuset.memory_spread_slab');
  c.memory_pressure = num('cpuset.memory_pressure');
  c.sched_load_balance = num('cpuset.sched_load_balance');
  c.sched_relax_domain_level = num('cpuset.sched_relax_domain_level', true);
  s.cpuset = c;
}

// memory.<name>.{usage,max_usage,failcnt,limit}; swap and kmem are optional in the kernel.
function memoryEntry(dir: string, name: string): MemoryEntry | undefined {
  const mod = name ? `memory.${name}` : 'memory';
  const usage = readOpt(dir, `${mod}.usage_in_bytes`);
  if (usage === undefined) {
    if (name) return undefined;
    throw new Error(`${path.join(dir, 'memory.usage_in_bytes')}: no such file`);
  }
  const e: MemoryEntry = { limit: uintFile(dir, `${mod}.limit_in_bytes`), failcnt: uintFile(dir, `${mod}.failcnt`) };
  const u = parseUint(usage, `${mod}.usage_in_bytes`);
  const max = uintFile(dir, `${mod}.max_usage_in_bytes`);
  // runc's MemoryEntry: usage and max are omitempty, limit and failcnt are not.
  return { limit: e.limit, ...(u ? { usage: u } : {}), ...(max ? { max } : {}), failcnt: e.failcnt };
}

const ZERO_ENTRY: MemoryEntry = { limit: 0, failcnt: 0 };

function memoryStats(dir: string, s: CgroupStats): void {
  const stat = readOpt(dir, 'memory.stat');
  if (stat === undefined) return;
  const raw: Record<string, number> = {};
  for (const [k, v] of keyValues(stat, 'memory.stat')) raw[k] = v;
  if (raw.cache) s.memory.cache = raw.cache;
  s.memory.usage = memoryEntry(dir, '') ?? ZERO_ENTRY;
  s.memory.swap = memoryEntry(dir, 'memsw') ?? ZERO_ENTRY;
  s.memory.kernel = memoryEntry(dir, 'kmem') ?? ZERO_ENTRY;
  s.memory.kernelTCP = memoryEntry(dir, 'kmem.tcp') ?? ZERO_ENTRY;
  // Go encodes map keys sorted.
  const keys = Object.keys(raw).sort();
  if (keys.length) s.memory.raw = Object.fromEntries(keys.map((k) => [k, raw[k]]));
}

function pidsStats(dir: string, s: CgroupStats): void {
  const current = uintFile(dir, 'pids.current');
  const max = read(dir, 'pids.max').trim();
  // "max" means no limit, which runc reports as 0 and so omits.
  const limit = max === 'max' ? 0 : parseUint(max, 'pids.max');
  s.pids = { ...(current ? { current } : {}), ...(limit ? { limit } : {}) };
}

// "8:0 Read 4096" lines (or "8:0 4096"); a "Total N" line is skipped. Nothing parsed is "absent".
export function parseBlkioFile(text: string, where: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) {
      if (f.length === 2 && f[0] === 'Total') continue;
      throw new Error(`${where}: malformed line ${JSON.stringify(line)}`);
    }
    const major = parseUint(f[0], where);
    const minor = parseUint(f[1], where);
    const op = f.length === 4 ? f[2] : '';
    const value = parseUint(f[f.length === 4 ? 3 : 2], where);
    // BlkioEntry fields are all omitempty.
    out.push({ ...(major ? { major } : {}), ...(minor ? { minor } : {}), ...(op ? { op } : {}), ...(value ? { value } : {}) });
  }
  return out;
}

// runc tries these groups in order and takes the first whose first file has entries: the bfq debug
// files, bfq, cfq, then the throttle files (recursive, then not). Keys are runc's JSON names.
const BLKIO_GROUPS: [string, string][][] = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];
// The JSON key order of runc's Blkio struct.
const BLKIO_ORDER = ['ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive', 'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive'];

function blkioStats(dir: string, s: CgroupStats): void {
  for (const group of BLKIO_GROUPS) {
    const got: Record<string, BlkioEntry[]> = {};
    let complete = true;
    for (let i = 0; i < group.length; i++) {
      const [file, key] = group[i];
      const text = readOpt(dir, file);
      const entries = text === undefined ? [] : parseBlkioFile(text, path.join(dir, file));
      if (!entries.length) {
        if (i === 0) {
          complete = false;
          break;
        }
        // runc gives up on blkio here, keeping what the group had filled in.
        for (const k of BLKIO_ORDER) if (got[k]) s.blkio[k] = got[k];
        return;
      }
      got[key] = entries;
    }
    if (complete) {
      for (const k of BLKIO_ORDER) if (got[k]) s.blkio[k] = got[k];
      return;
    }
  }
}

function hugetlbStats(dir: string, s: CgroupStats): void {
  // The page sizes are those the kernel made files for: hugetlb.<size>.usage_in_bytes.
  const sizes = fs
    .readdirSync(dir)
    .map((f) => /^hugetlb\.([^.]+)\.usage_in_bytes$/.exec(f)?.[1])
    .filter((x): x is string => !!x)
    .sort();
  for (const size of sizes) {
    const usage = uintFile(dir, `hugetlb.${size}.usage_in_bytes`);
    const max = uintFile(dir, `hugetlb.${size}.max_usage_in_bytes`);
    const failcnt = uintFile(dir, `hugetlb.${size}.failcnt`);
    s.hugetlb[size] = { ...(usage ? { usage } : {}), ...(max ? { max } : {}), failcnt };
  }
}

const exists = (dir: string | undefined): dir is string => !!dir && fs.existsSync(dir);

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: { cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0, memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0 },
    memory: { usage: { ...ZERO_ENTRY }, swap: { ...ZERO_ENTRY }, kernel: { ...ZERO_ENTRY }, kernelTCP: { ...ZERO_ENTRY } },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

export function v1Stats(paths: Record<string, string>): CgroupStats {
  const s = emptyStats();
  const dir = (c: string) => controllerDir(paths, c);
  const cpu = dir('cpu');
  const cpuacct = dir('cpuacct');
  const cpuset = dir('cpuset');
  const memory = dir('memory');
  const pids = dir('pids');
  const blkio = dir('blkio');
  const hugetlb = dir('hugetlb');
  // runc's subsystem order; a controller whose directory is gone contributes nothing.
  if (cpuset && fs.existsSync(cpuset)) cpusetStats(cpuset, s);
  if (cpu && fs.existsSync(cpu)) cpuStats(cpu, s);
  if (exists(cpuacct)) cpuacctStats(cpuacct, s);
  if (memory && fs.existsSync(memory)) memoryStats(memory, s);
  if (exists(pids)) pidsStats(pids, s);
  if (blkio && fs.existsSync(blkio)) blkioStats(blkio, s);
  if (exists(hugetlb)) hugetlbStats(hugetlb, s);
  return ordered(s);
}

const omitEmpty = <T>(v: T[] | undefined) => (v && v.length ? v : undefined);

// The key order of runc's Go structs, with its omitempty rules (JSON.stringify drops undefined).
export function ordered(s: CgroupStats): CgroupStats {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const m = s.memory;
  return {
    cpu: {
      usage: {
        total: u.total || undefined,
        percpu: omitEmpty(u.percpu),
        percpu_kernel: omitEmpty(u.percpu_kernel),
        percpu_user: omitEmpty(u.percpu_user),
        kernel: u.kernel,
        user: u.user,
      },
      throttling: { periods: t.periods || undefined, throttledPeriods: t.throttledPeriods || undefined, throttledTime: t.throttledTime || undefined },
    },
    cpuset: s.cpuset,
    memory: {
      cache: m.cache || undefined,
      usage: m.usage,
      swap: m.swap,
      kernel: m.kernel,
      kernelTCP: m.kernelTCP,
      raw: m.raw && Object.keys(m.raw).length ? m.raw : undefined,
    },
    pids: { current: s.pids.current || undefined, limit: s.pids.limit || undefined },
    blkio: s.blkio,
    hugetlb: s.hugetlb,
    intel_rdt: s.intel_rdt,
    network_interfaces: s.network_interfaces,
  };
}

// JSON.stringify, except that integers beyond 2^53 print exactly as Go prints the uint64 they
// came from (9223372036854771712, not 9223372036854772000); 2^64 stands for MaxUint64.
export function statsJson(v: unknown): string {
  const big: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x)) {
      big.push(x >= MAX_UINT64 ? '18446744073709551615' : BigInt(x).toString());
      return `\u0000big${big.length - 1}\u0000`;
    }
    return x;
  });
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => big[Number(i)]);
}
