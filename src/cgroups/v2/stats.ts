// Stats of a cgroup2 directory in runc 1.1's shape (what `events --stats` prints): cpu.stat, memory.*,
// pids.*, io.stat as blkio entries, hugetlb.*; a controller that is not enabled leaves its part empty.
import * as fs from 'node:fs';
import type { BlkioEntry, CgroupStats, MemoryEntry } from '../types';
import { MAX_U64, parseKeyValues, parseUint, readOptional } from './files';
import { allPids } from '../tree';

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    memory: {},
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

function statCpu(dir: string, st: CgroupStats): void {
  const text = readOptional(dir, 'cpu.stat');
  if (text === undefined) return;
  const kv = parseKeyValues(text);
  // runc reports nanoseconds, cpu.stat microseconds.
  if (kv.usage_usec !== undefined) st.cpu.usage.total = kv.usage_usec * 1000;
  if (kv.user_usec !== undefined) st.cpu.usage.user = kv.user_usec * 1000;
  if (kv.system_usec !== undefined) st.cpu.usage.kernel = kv.system_usec * 1000;
  if (kv.nr_periods !== undefined) st.cpu.throttling.periods = kv.nr_periods;
  if (kv.nr_throttled !== undefined) st.cpu.throttling.throttledPeriods = kv.nr_throttled;
  if (kv.throttled_usec !== undefined) st.cpu.throttling.throttledTime = kv.throttled_usec * 1000;
}

const entry = (usage: number, limit: number): MemoryEntry => ({ limit, usage, failcnt: 0 });

function statMemory(dir: string, st: CgroupStats): void {
  const stat = readOptional(dir, 'memory.stat');
  if (stat === undefined) return;
  const raw = parseKeyValues(stat);
  st.memory.raw = raw;
  st.memory.cache = raw.file ?? 0;
  const current = readOptional(dir, 'memory.current');
  const max = readOptional(dir, 'memory.max');
  if (current === undefined || max === undefined) return;
  const usage = entry(parseUint(current), parseUint(max));
  st.memory.usage = usage;
  // v1 reports swap as memory+swap; runc adds memory to v2's swap-only numbers to match.
  const swapCur = readOptional(dir, 'memory.swap.current');
  const swapMax = readOptional(dir, 'memory.swap.max');
  const swap = swapCur !== undefined && swapMax !== undefined ? entry(parseUint(swapCur), parseUint(swapMax)) : entry(0, 0);
  swap.usage = (swap.usage ?? 0) + (usage.usage ?? 0);
  if (swap.limit !== MAX_U64) swap.limit += usage.limit;
  st.memory.swap = swap;
}

function statPids(dir: string, st: CgroupStats): void {
  const current = readOptional(dir, 'pids.current');
  if (current === undefined) {
    // Without the pids controller, count the processes (runc's fallback); no limit then.
    st.pids.current = allPids(dir).length;
    st.pids.limit = 0;
    return;
  }
  st.pids.current = parseUint(current);
  // runc shows "no limit" as 0.
  const max = parseUint(readOptional(dir, 'pids.max') ?? 'max');
  st.pids.limit = max === MAX_U64 ? 0 : max;
}

// io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device.
export function parseIoStat(text: string): Record<string, BlkioEntry[]> {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    for (const f of fields) {
      const [k, v] = f.split('=');
      const table = k === 'rbytes' || k === 'wbytes' ? bytes : k === 'rios' || k === 'wios' ? ios : undefined;
      if (!table || v === undefined) continue;
      table.push({ major, minor, op: k.startsWith('r') ? 'Read' : 'Write', value: parseUint(v) });
    }
  }
  const out: Record<string, BlkioEntry[]> = {};
  if (bytes.length) out.io_service_bytes_recursive = bytes;
  if (ios.length) out.io_serviced_recursive = ios;
  return out;
}

function statIo(dir: string, st: CgroupStats): void {
  const text = readOptional(dir, 'io.stat');
  if (text !== undefined) st.blkio = parseIoStat(text);
}

function statHugetlb(dir: string, st: CgroupStats): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^hugetlb\.(\d+[KMG]B)\.current$/.exec(n);
    if (!m) continue;
    const size = m[1];
    const usage = parseUint(readOptional(dir, n) ?? '0');
    // hugetlb.<size>.events "max N": how often an allocation hit the limit, v1's failcnt.
    const events = parseKeyValues(readOptional(dir, `hugetlb.${size}.events`) ?? '');
    st.hugetlb[size] = { usage, failcnt: events.max ?? 0 };
  }
}

export function readStats(dir: string): CgroupStats {
  const st = emptyStats();
  statPids(dir, st);
  statMemory(dir, st);
  statIo(dir, st);
  statCpu(dir, st);
  statHugetlb(dir, st);
  return st;
}
