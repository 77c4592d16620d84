// The fake kernel seam for unit tests: a Libc whose every method records its call and returns 0, with
// `impl` overriding the behaviour of some of them. Install it with setLibc().
import type { Libc } from '../../../src/linux/libc';

export type Call = [string, ...unknown[]];

export function fakeLibc(impl: Partial<Record<keyof Libc, (...a: never[]) => unknown>> = {}): { libc: Libc; calls: Call[] } {
  const calls: Call[] = [];
  const libc = new Proxy({} as Libc, {
    get(_, name: string) {
      return (...args: unknown[]) => {
        calls.push([name, ...args]);
        const f = (impl as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
        return f ? f(...args) : 0;
      };
    },
  });
  return { libc, calls };
}
