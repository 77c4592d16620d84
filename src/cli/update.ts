// `ocirun update <id>`: runc's update flags, or a LinuxResources JSON from --resources FILE|- (containerd's way).
// Owns the parsing of the flag values, with runc's error texts (strconv and go-units).
import * as fs from 'node:fs';
import type { LinuxResources } from '../oci';
import { parseJson } from '../oci/json';
import { validateResources } from '../oci/validate-linux';
import { updateContainer } from '../container/update';
import { validateId } from '../container/id';
import { errnoText } from '../cgroups/v1/fs';
import { needArgs, store, type Command } from './command';
import type { FlagValues } from './flags';

// go-units RAMInBytes: a decimal number, an optional space, an optional binary unit (k, m, g, t, p; i and b ignored).
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  if (!/^\d+(\.\d+)?$/.test(m[1])) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(m[1])}: invalid syntax`);
  const mul = m[2] ? 1024 ** ('kmgtp'.indexOf(m[2].toLowerCase()) + 1) : 1;
  return Math.trunc(Number(m[1]) * mul);
}

// strconv.ParseUint / ParseInt in base 10, bit size 64.
export function parseGo(s: string, signed: boolean): number {
  const fn = signed ? 'ParseInt' : 'ParseUint';
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(s)) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt(s);
  const ok = signed ? v >= -(2n ** 63n) && v < 2n ** 63n : v < 2n ** 64n;
  if (!ok) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(v);
}

function fromFlags(f: FlagValues): LinuxResources {
  const str = (k: string) => (f[k] as string | undefined) ?? '';
  const val = (k: string, parse: (s: string) => number): number | undefined => {
    const s = str(k);
    if (s === '') return undefined;
    try {
      return parse(s);
    } catch (e) {
      throw new Error(`invalid value for ${k}: ${(e as Error).message}`);
    }
  };
  const size = (k: string) => val(k, (s) => (s === '-1' ? -1 : ramInBytes(s)));
  const u = (k: string) => val(k, (s) => parseGo(s, false));
  const i = (k: string) => val(k, (s) => parseGo(s, true));
  return {
    blockIO: { weight: (f['blkio-weight'] as number) || undefined },
    cpu: {
      cpus: str('cpuset-cpus') || undefined,
      mems: str('cpuset-mems') || undefined,
      period: u('cpu-period'),
      realtimePeriod: u('cpu-rt-period'),
      shares: u('cpu-share'),
      burst: u('cpu-burst'),
      quota: i('cpu-quota'),
      realtimeRuntime: i('cpu-rt-runtime'),
    },
    memory: {
      limit: size('memory'),
      swap: size('memory-swap'),
      kernel: size('kernel-memory'),
      kernelTCP: size('kernel-memory-tcp'),
      reservation: size('memory-reservation'),
    },
    pids: { limit: (f['pids-limit'] as number) ?? 0 },
  };
}

function fromJson(file: string): LinuxResources {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new Error(`open ${file}: ${errnoText(e)}`);
  }
  const v = parseJson(text, file === '-' ? 'resources' : file);
  validateResources(v, 'resources');
  return v as LinuxResources;
}

const cmd: Command = {
  usage: 'update',
  args: '<container-id>',
  flags: [
    { name: 'resources', type: 'string', aliases: ['r'], usage: 'path to the file containing the resources to update or \'-\' to read from the standard input' },
    { name: 'blkio-weight', type: 'int', usage: 'Specifies per cgroup weight, range is from 10 to 1000', default: 0 },
    { name: 'cpu-period', type: 'string', usage: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
    { name: 'cpu-quota', type: 'string', usage: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
    { name: 'cpu-burst', type: 'string', usage: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
    { name: 'cpu-share', type: 'string', usage: 'CPU shares (relative weight vs. other containers)' },
    { name: 'cpu-rt-period', type: 'string', usage: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
    { name: 'cpu-rt-runtime', type: 'string', usage: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPU(s) to use' },
    { name: 'cpuset-mems', type: 'string', usage: 'Memory node(s) to use' },
    { name: 'kernel-memory', type: 'string', usage: '(obsoleted; do not use)', hidden: true },
    { name: 'kernel-memory-tcp', type: 'string', usage: '(obsoleted; do not use)', hidden: true },
    { name: 'memory', type: 'string', usage: 'Memory limit (in bytes)' },
    { name: 'memory-reservation', type: 'string', usage: 'Memory reservation or soft_limit (in bytes)' },
    { name: 'memory-swap', type: 'string', usage: 'Total memory usage (memory + swap); set \'-1\' to enable unlimited swap' },
    { name: 'pids-limit', type: 'int', usage: 'Maximum number of pids allowed in the container', default: 0 },
    { name: 'l3-cache-schema', type: 'string', usage: 'The string of Intel RDT/CAT L3 cache schema' },
    { name: 'mem-bw-schema', type: 'string', usage: 'The string of Intel RDT/MBA memory bandwidth schema' },
  ],
  run(g, f, args) {
    needArgs(args, 1, '', 'update');
    const id = validateId(args[0]);
    const s = store(g);
    // As runc: an unknown container is reported before the flags are looked at.
    if (!s.exists(id)) throw new Error('container does not exist');
    const file = f.resources as string | undefined;
    const resources = file ? fromJson(file) : fromFlags(f);
    updateContainer(s, id, {
      resources,
      l3CacheSchema: (f['l3-cache-schema'] as string | undefined) || undefined,
      memBwSchema: (f['mem-bw-schema'] as string | undefined) || undefined,
    });
  },
};
export default cmd;
