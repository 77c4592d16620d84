// Runs one OCI hook (config.md "POSIX-platform Hooks"): path, args with args[0] as argv0, exactly env,
// the state JSON on stdin, killed after timeout. Owns the state document and the error wording; runtime and init share it.
import type { SpawnSyncReturns } from 'node:child_process';
import { errnoText } from '../linux/errors';
import type { Hook, Hooks } from '../oci/spec';

export type HookKind = keyof Hooks;
export type HookStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

// What every state document of one container shares.
export interface HookBase {
  ociVersion: string;
  id: string;
  bundle: string;
  annotations?: Record<string, string>;
}

// runtime.md "State"; hookState() builds it in runc's key order, leaving pid and annotations out when
// there are none, as runc does.
export interface HookState extends HookBase {
  status: HookStatus;
  pid?: number;
}

// Go marshals maps with sorted keys; hooks that compare or hash the document see the same bytes as with runc.
export function sortedAnnotations(a?: Record<string, string>): Record<string, string> | undefined {
  if (!a || Object.keys(a).length === 0) return undefined;
  return Object.fromEntries(Object.keys(a).sort().map((k) => [k, a[k]]));
}

export function hookState(base: HookBase, status: HookStatus, pid?: number): HookState {
  const annotations = sortedAnnotations(base.annotations);
  return {
    ociVersion: base.ociVersion,
    id: base.id,
    status,
    ...(pid ? { pid } : {}),
    bundle: base.bundle,
    ...(annotations ? { annotations } : {}),
  };
}

export interface HookCommand {
  file: string;
  argv0: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs?: number;
}

// A hook with env gets exactly that; one without env inherits the caller's environment (`inherited`), as runc's
// Go exec.Cmd does with a nil Env: real hooks (dockerd's libnetwork-setkey) rely on it. An explicit [] is empty.
// An entry without "=" cannot be passed through Node's env object and is dropped; a repeated name keeps its
// last value, as Go's os/exec does.
export function hookCommand(hook: Hook, inherited: NodeJS.ProcessEnv = {}): HookCommand {
  const env: Record<string, string> = {};
  if (hook.env === undefined) {
    for (const [k, v] of Object.entries(inherited)) if (v !== undefined) env[k] = v;
  }
  Object.assign(env, envObject(hook.env ?? []));
  const args = hook.args ?? [];
  return {
    file: hook.path,
    // No args: argv is just the path, like execv callers and Go's exec.Cmd.
    argv0: args.length ? args[0] : hook.path,
    args: args.slice(1),
    env,
    timeoutMs: hook.timeout !== undefined ? hook.timeout * 1000 : undefined,
  };
}

// NAME=value entries as an env object: one without a name is dropped, a repeated name keeps its last value.
export function envObject(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}

export const hookName = (kind: HookKind, index: number) => `hooks.${kind}[${index}]`;

type Outcome = Pick<SpawnSyncReturns<string>, 'status' | 'signal' | 'error' | 'stdout' | 'stderr'>;

// Why a hook failed, in runc's words (its "exit status N, stdout: …, stderr: …" tail is what people grep for),
// or undefined when it succeeded.
export function hookFailure(hook: Hook, r: Outcome): string | undefined {
  const err = r.error as NodeJS.ErrnoException | undefined;
  if (err?.code === 'ETIMEDOUT') return `hook ran past specified timeout of ${(hook.timeout ?? 0).toFixed(1)}s`;
  // A hook that exits without reading its stdin makes our write fail; Go's os/exec ignores that too.
  if (err && err.code !== 'EPIPE') {
    return `exec ${hook.path}: ${errnoText(err)}`;
  }
  const out = `stdout: ${r.stdout ?? ''}, stderr: ${r.stderr ?? ''}`;
  if (r.signal) return `signal: ${r.signal}, ${out}`;
  if (r.status !== 0) return `exit status ${r.status}, ${out}`;
  return undefined;
}

export class HookError extends Error {}

export function runHook(kind: HookKind, index: number, hook: Hook, state: HookState, cwd?: string, inherited: NodeJS.ProcessEnv = process.env): void {
  const c = hookCommand(hook, inherited);
  // Loaded on first use: child_process costs every init and every `state` a few ms, and most containers have no hooks.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(c.file, c.args, {
    argv0: c.argv0,
    env: c.env,
    cwd,
    input: JSON.stringify(state),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: c.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: Infinity,
  });
  const why = hookFailure(hook, r);
  if (why !== undefined) throw new HookError(`error running ${hookName(kind, index)} (${hook.path}): ${why}`);
}

// In the listed order (config.md: "Hooks MUST be called in the listed order"); the first failure stops the list.
export function runHooks(kind: HookKind, hooks: Hooks | undefined, state: HookState, cwd?: string, inherited: NodeJS.ProcessEnv = process.env): void {
  for (const [i, h] of (hooks?.[kind] ?? []).entries()) runHook(kind, i, h, state, cwd, inherited);
}
