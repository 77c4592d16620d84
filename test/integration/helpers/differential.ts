// Differential runs: one bundle definition under runc (the oracle) and under ocirun, and the
// guard that both really ran before their outputs are compared.
import { expect } from 'vitest';
import type { Bundle, BundleOptions } from './bundle';
import { uniqueId } from './env';
import { explain, run, type RunResult, type RuntimeName } from './runtime';
import type { Sandbox } from './sandbox';

/** runc first, then ocirun: never concurrently, so one cannot disturb the other. */
export const RUNTIMES: readonly RuntimeName[] = ['runc', 'ocirun'];

export type Pair = Record<RuntimeName, RunResult>;

/** A bundle definition, or one per runtime when the two must differ (e.g. paths that name the runtime). */
export type BothOptions = BundleOptions | ((rt: RuntimeName) => BundleOptions);

export interface RunBothExtras {
  /** Shapes each runtime's bundle copy after it is made and before the run. */
  prepare?: (b: Bundle) => void;
  timeoutMs?: number;
}

/**
 * `run` of one bundle under one runtime with the given id, from its own bundle copy named after
 * the runtime (bundle-runc, bundle-ocirun), so writes in one rootfs never show in the other.
 */
export function runOne(sb: Sandbox, rtName: RuntimeName, id: string, opts: BundleOptions, extras: RunBothExtras = {}): RunResult {
  const rt = sb.runtime(rtName);
  const b = sb.bundle(opts, `bundle-${rtName}`);
  extras.prepare?.(b);
  sb.track(rt, id);
  return run(rt, ['run', '--bundle', b.dir, id], extras.timeoutMs === undefined ? {} : { timeoutMs: extras.timeoutMs });
}

/**
 * Runs one bundle definition under each runtime in turn with the same container id, so cgroup
 * paths and anything else derived from the id match.
 */
export function runBoth(sb: Sandbox, name: string, opts: BothOptions, extras: RunBothExtras = {}): Pair {
  const id = uniqueId(name);
  const out = {} as Pair;
  for (const rtName of RUNTIMES) out[rtName] = runOne(sb, rtName, id, typeof opts === 'function' ? opts(rtName) : opts, extras);
  return out;
}

/**
 * Guards against a vacuous equality: both sides must have exited with `code`, printed something
 * and printed every anchor.
 */
export function expectRan(pair: Pair, anchors: (string | RegExp)[], code = 0): void {
  for (const rtName of RUNTIMES) {
    const r = pair[rtName];
    expect(r.code, `${rtName} exit code\n${explain(r)}`).toBe(code);
    expect(r.stdout.length, `${rtName} printed nothing\n${explain(r)}`).toBeGreaterThan(0);
    for (const a of anchors) {
      if (typeof a === 'string') expect(r.stdout, `${rtName} output lacks ${a}\n${explain(r)}`).toContain(a);
      else expect(r.stdout, `${rtName} output lacks ${a}\n${explain(r)}`).toMatch(a);
    }
  }
}
