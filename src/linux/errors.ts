// Turns a failed system call into an Error that names the call, its argument and errno.
// Owns SysError, the one error type of the kernel seam.
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';

export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(call: string, errno: number, what?: string) {
    const code = errno > 0 ? getSystemErrorName(-errno) : 'UNKNOWN';
    const text = errno > 0 ? getSystemErrorMessage(-errno) : 'unknown error';
    super(`${call}${what !== undefined ? ` ${what}` : ''}: ${text}`);
    this.errno = errno;
    this.code = code;
  }
}

// The errno text of a failed call (SysError or a Node fs/child_process error), as Go prints it:
// "operation not permitted". Errors without an errno keep their message.
export function errnoText(e: unknown): string {
  const n = (e as { errno?: unknown }).errno;
  if (typeof n === 'number' && n !== 0) return getSystemErrorMessage(-Math.abs(n));
  return (e as Error).message;
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === code;
}

// Runs f, treating one expected errno (EEXIST for "already made", ENOENT for "already gone") as success.
export function ignoring(code: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!isErrno(e, code)) throw e;
  }
}
