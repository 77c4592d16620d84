// The Linux "list format" for sets of CPUs and NUMA nodes ("0-3,7"), as in execCPUAffinity and
// linux.memoryPolicy.nodes; owns parsing it, its config check, and packing it into the unsigned-long masks the kernel reads.
import { fail, str, type Check } from './check';

/** CONFIG_NR_CPUS tops out at 8192; an id past that can never name a real CPU or node. */
export const MAX_IDS = 8192;

/**
 * Sorted, distinct ids of a list such as "0-3,7". Spaces around an element are allowed; an empty
 * string is the empty set. Throws an Error whose message says what is wrong, without a path.
 */
export function parseIdList(text: string, noun = 'CPU', max = MAX_IDS): number[] {
  const ids = new Set<number>();
  if (text.trim() === '') return [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid ${noun} list element ${JSON.stringify(part)} (want N or N-M, as in "0-3,7")`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (const id of [lo, hi]) {
      if (!Number.isSafeInteger(id) || id >= max) throw new Error(`invalid ${noun} ${m[2] === undefined ? m[1] : JSON.stringify(part)}: out of range (0-${max - 1})`);
    }
    if (lo > hi) throw new Error(`invalid ${noun} range ${JSON.stringify(part)}: start is greater than end`);
    for (let id = lo; id <= hi; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** A config string in list format; the error names the JSON path and says what is wrong. */
export const idListCheck = (noun: string): Check => (v, p) => {
  str(v, p);
  try {
    parseIdList(v as string, noun);
  } catch (e) {
    fail(p, (e as Error).message);
  }
};

/** The ids as a bitmask of 64-bit words (bit i of word w is id 64w+i), just long enough for the highest. */
export function idMask(ids: readonly number[]): BigUint64Array {
  const top = ids.length ? Math.max(...ids) : -1;
  const words = new BigUint64Array(Math.floor(top / 64) + 1);
  for (const id of ids) words[id >> 6] |= 1n << BigInt(id & 63);
  return words;
}

/** A mask with every id below `count` set. */
export function fullMask(count = MAX_IDS): BigUint64Array {
  return new BigUint64Array(Math.ceil(count / 64)).fill(0xffffffffffffffffn);
}
