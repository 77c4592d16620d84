// File access for the v1 controllers: one write per value, errors that name the OCI field, number formatting.
// Owns the rule that a cgroup file is opened O_WRONLY|O_TRUNC without O_CREAT, as runc's WriteFile (some are write-only, none are created).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getSystemErrorMessage } from 'node:util';
import type { LinuxResources } from '../../oci';
import { O_CLOEXEC } from '../../linux/constants';

export const errnoText = (e: unknown): string => {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? getSystemErrorMessage(n) : (e as Error).message;
};

export class CgroupWriteError extends Error {
  constructor(
    readonly field: string,
    readonly file: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${field}: write ${file}: ${detail}`);
  }
}

export function writeValue(dir: string, file: string, value: string, field: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, file), fs.constants.O_WRONLY | fs.constants.O_TRUNC | O_CLOEXEC);
  } catch (e) {
    throw new CgroupWriteError(field, file, (e as NodeJS.ErrnoException).code, errnoText(e));
  }
  try {
    fs.writeSync(fd, value);
  } catch (e) {
    throw new CgroupWriteError(field, file, (e as NodeJS.ErrnoException).code, errnoText(e));
  } finally {
    fs.closeSync(fd);
  }
}

export const readValue = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();

// Integers as the kernel parses them: never in exponent form, whatever their size.
export const num = (n: number): string => (Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString());

// One v1 controller: which requested fields it owns (to refuse them when it is not mounted), and how
// it writes them. runc's rule throughout: a zero (or empty) value means "leave as it is".
export interface Controller {
  readonly name: string;
  requested(r: LinuxResources): string[];
  set(dir: string, r: LinuxResources): void;
}

export const R = 'linux.resources';
export const set = (v: number | undefined): v is number => v !== undefined && v !== 0;
