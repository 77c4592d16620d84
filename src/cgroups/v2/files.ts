// Reading and writing cgroup2 interface files, and the one error shape for a refused value:
// `<JSON path>: write <file>: <errno text>`, so the user sees which linux.resources field the kernel rejected.
import * as fs from 'node:fs';
import { O_CLOEXEC } from '../../linux/constants';
import * as path from 'node:path';
import { getSystemErrorMessage } from 'node:util';

export const RESOURCES = 'linux.resources';

// Go's strerror text (lower case), which is what runc prints after "write cpu.max: ".
export function errnoText(e: unknown): string {
  const errno = (e as NodeJS.ErrnoException).errno;
  if (typeof errno === 'number' && errno < 0) return getSystemErrorMessage(errno);
  return (e as Error).message;
}

export class CgroupWriteError extends Error {
  constructor(
    readonly field: string,
    readonly file: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`${field}: write ${file}: ${reason}`);
  }
}

// One write(2) per call, like runc's WriteFile: a cgroup file takes one value per write, and a
// multi-line value (io.max, rdma.max) must be written line by line by the caller.
export function writeFile(dir: string, file: string, value: string, field: string): void {
  let fd = -1;
  try {
    // No O_CREAT: a missing file means a missing controller, which must not become a plain file.
    fd = fs.openSync(path.join(dir, file), fs.constants.O_WRONLY | fs.constants.O_TRUNC | O_CLOEXEC);
    fs.writeSync(fd, value);
  } catch (e) {
    throw new CgroupWriteError(field, file, (e as NodeJS.ErrnoException).code, errnoText(e));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

export function readFile(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8');
}

export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFile(dir, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function exists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

// The kernel's "max" (no limit) as a uint64, the way runc's GetCgroupParamUint reads it. The JS
// number is 2^64, the value large uint64s have everywhere else in ocirun.
export const MAX_U64 = 2 ** 64;

export function parseUint(text: string): number {
  const t = text.trim();
  if (t === 'max') return MAX_U64;
  const n = Number(t);
  if (!/^\d+$/.test(t) || !Number.isFinite(n)) throw new Error(`cannot parse ${JSON.stringify(t)} as a cgroup value`);
  return n;
}

// "key value" lines (cpu.stat, memory.stat, memory.events) to a record.
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v, ...rest] = line.trim().split(/\s+/);
    if (!k || v === undefined || rest.length) continue;
    out[k] = parseUint(v);
  }
  return out;
}

// runc's numToStr for the *.max/.low/.high files: 0 is "leave alone", -1 is "max".
export function numToStr(v: number | undefined): string {
  if (v === undefined || v === 0) return '';
  if (v === -1) return 'max';
  return String(v);
}
