// Invoking runc or ocirun with a per-test --root: synchronous and background runs with
// captured output, plus create/start/state/kill/delete wrappers shared by all suites.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCIRUN_BIN, RUNC_BIN, runtimeEnv, scratchBase } from './env';

export type RuntimeName = 'runc' | 'ocirun';

export interface Runtime {
  readonly name: RuntimeName;
  readonly bin: string;
  /** Passed as the global --root flag so tests never touch /run/runc or /run/ocirun. */
  readonly root: string;
}

export interface RunResult {
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  /** Written to the runtime's stdin, which is always a pipe: a host /dev/null fd would show up inside containers. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * 'pipe' waits for EOF, so it hangs when a detached container inherits the pipe;
   * 'file' avoids that. Default: 'file' for create and run -d, 'pipe' otherwise.
   */
  capture?: 'pipe' | 'file';
  /** Global flags placed before --root (e.g. --log). */
  globalArgs?: string[];
  /** Omit --root entirely (e.g. --version, spec). */
  noRoot?: boolean;
}

export function binFor(name: RuntimeName): string {
  return name === 'runc' ? RUNC_BIN : OCIRUN_BIN;
}

export function makeRuntime(name: RuntimeName, root: string): Runtime {
  return { name, bin: binFor(name), root };
}

function argvFor(rt: Runtime, args: string[], opts: RunOptions): string[] {
  return [...(opts.globalArgs ?? []), ...(opts.noRoot === true ? [] : ['--root', rt.root]), ...args];
}

function wantsFileCapture(args: string[]): boolean {
  const sub = args.find((a) => !a.startsWith('-'));
  if (sub === 'create') return true;
  return sub === 'run' && (args.includes('-d') || args.includes('--detach'));
}

let ioCounter = 0;

function ioFiles(): { out: string; err: string } {
  const dir = path.join(scratchBase(), 'io');
  fs.mkdirSync(dir, { recursive: true });
  ioCounter += 1;
  return { out: path.join(dir, `${ioCounter}.out`), err: path.join(dir, `${ioCounter}.err`) };
}

function readAndRemove(file: string): string {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // Teardown may already have removed the scratch area under a late background exit.
  }
  fs.rmSync(file, { force: true });
  return text;
}

/** Runs the runtime to completion. Never throws for a non-zero exit: tests assert on the result. */
export function run(rt: Runtime, args: string[], opts: RunOptions = {}): RunResult {
  const argv = argvFor(rt, args, opts);
  const capture = opts.capture ?? (wantsFileCapture(args) ? 'file' : 'pipe');
  const common = {
    cwd: opts.cwd,
    env: opts.env ?? runtimeEnv(),
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL' as const,
    maxBuffer: 64 * 1024 * 1024,
  };
  if (capture === 'pipe') {
    const r = spawnSync(rt.bin, argv, { ...common, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return {
      argv: [rt.bin, ...argv],
      code: r.status,
      signal: r.signal,
      stdout: r.stdout ?? '',
      stderr: (r.stderr ?? '') + (r.error !== undefined ? `\n[spawn error] ${r.error.message}` : ''),
      timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    };
  }
  const files = ioFiles();
  const outFd = fs.openSync(files.out, 'w+');
  const errFd = fs.openSync(files.err, 'w+');
  try {
    const r = spawnSync(rt.bin, argv, { ...common, stdio: ['pipe', outFd, errFd] });
    return {
      argv: [rt.bin, ...argv],
      code: r.status,
      signal: r.signal,
      stdout: readAndRemove(files.out),
      stderr: readAndRemove(files.err) + (r.error !== undefined ? `\n[spawn error] ${r.error.message}` : ''),
      timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    };
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
}

export interface Background {
  pid: number;
  done: Promise<RunResult>;
}

/** Background runs not yet exited; teardown kills them so none outlives its test. */
const pending = new Map<number, { done: Promise<RunResult>; kill: () => void }>();

/** SIGKILLs every background runtime process still running and waits for their exit. */
export async function settleBackground(): Promise<number> {
  const left = [...pending.values()];
  for (const p of left) p.kill();
  await Promise.all(left.map((p) => p.done));
  return left.length;
}

/** Starts the runtime without waiting, for tests that act on a foreground `run` from outside. */
export function runInBackground(rt: Runtime, args: string[], opts: RunOptions = {}): Background {
  const argv = argvFor(rt, args, opts);
  const files = ioFiles();
  const outFd = fs.openSync(files.out, 'w+');
  const errFd = fs.openSync(files.err, 'w+');
  const child = spawn(rt.bin, argv, {
    cwd: opts.cwd,
    env: opts.env ?? runtimeEnv(),
    stdio: ['pipe', outFd, errFd],
  });
  fs.closeSync(outFd);
  fs.closeSync(errFd);
  child.stdin?.end(opts.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 10_000);
  const done = new Promise<RunResult>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      clearTimeout(timer);
      resolve({
        argv: [rt.bin, ...argv],
        code,
        signal,
        stdout: readAndRemove(files.out),
        stderr: readAndRemove(files.err) + extra,
        timedOut,
      });
    };
    child.once('error', (e) => finish(null, null, `\n[spawn error] ${e.message}`));
    child.once('exit', (code, signal) => finish(code, signal));
  });
  const key = child.pid ?? -Date.now();
  pending.set(key, { done, kill: () => child.kill('SIGKILL') });
  void done.then(() => pending.delete(key));
  return { pid: child.pid ?? -1, done };
}

/** Compact text for assertion messages, so a failing expectation shows what the runtime said. */
export function explain(r: RunResult): string {
  return `$ ${r.argv.join(' ')}\nexit=${r.code} signal=${r.signal ?? ''}${r.timedOut ? ' TIMEOUT' : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Throws with full context unless the command exited 0. */
export function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`command failed\n${explain(r)}`);
  return r;
}

export function create(rt: Runtime, id: string, bundle: string, extra: string[] = []): RunResult {
  return run(rt, ['create', '--bundle', bundle, ...extra, id]);
}

export function start(rt: Runtime, id: string): RunResult {
  return run(rt, ['start', id]);
}

export function kill(rt: Runtime, id: string, signal?: string, extra: string[] = []): RunResult {
  return run(rt, ['kill', ...extra, id, ...(signal === undefined ? [] : [signal])]);
}

export function del(rt: Runtime, id: string, force = false): RunResult {
  return run(rt, ['delete', ...(force ? ['--force'] : []), id]);
}

export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export function stateRaw(rt: Runtime, id: string): RunResult {
  return run(rt, ['state', id]);
}

export function state(rt: Runtime, id: string): ContainerState {
  const r = ok(stateRaw(rt, id));
  try {
    return JSON.parse(r.stdout) as ContainerState;
  } catch (e) {
    throw new Error(`state output is not JSON (${(e as Error).message})\n${explain(r)}`);
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `state` because a killed init is reaped asynchronously; runc has no "wait" command. */
export function waitForStatus(rt: Runtime, id: string, status: string, timeoutMs = 10_000): ContainerState {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = state(rt, id);
    if (s.status === status) return s;
    if (Date.now() > deadline) throw new Error(`container ${id} stayed "${s.status}", wanted "${status}"`);
    sleepMs(25);
  }
}

/** `list -q` ids; empty when the root does not exist yet. */
export function listIds(rt: Runtime): string[] {
  if (!fs.existsSync(rt.root)) return [];
  const r = run(rt, ['list', '-q']);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}
