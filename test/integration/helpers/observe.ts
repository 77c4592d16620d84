// Host-side observations for the foundation suites: process liveness, cgroup membership,
// stray runtime inits, runc's logrus messages, runtime runs that tests watch or race, and what a
// failed create or run left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { Bundle } from './bundle';
import { runtimeEnv, scratchBase } from './env';
import { isEmpty, scanCgroups, scanMounts, scanProcesses, summarize, type InodeKey } from './leftovers';
import { explain, sleepMs, type RunResult, type Runtime } from './runtime';

/** Zombies count as dead: who reaps an orphan (host pid 1, a subreaper) is not the runtime's business. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Synchronous polling: the conditions are host state that changes without any event to await. */
export function waitUntil(cond: () => boolean, what: string, timeoutMs = 5_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    sleepMs(20);
  }
}

/** The cgroup v1 directory of pid in the hierarchy carrying controller, e.g. /sys/fs/cgroup/pids/<id>. */
export function cgroupDirOf(pid: number, controller: string): string {
  const text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  for (const line of text.split('\n')) {
    const [, controllers, ...rest] = line.split(':');
    if (controllers !== undefined && controllers.split(',').includes(controller)) {
      return `/sys/fs/cgroup/${controller}${rest.join(':')}`;
    }
  }
  throw new Error(`pid ${pid} has no ${controller} cgroup:\n${text}`);
}

/** Members of a cgroup; an empty list once the directory itself is gone. */
export function cgroupProcs(dir: string): number[] {
  try {
    return fs
      .readFileSync(`${dir}/cgroup.procs`, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Pids of every live `ocirun init` / `runc init` on the host, whoever started them. */
export function runtimeInits(): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = readOr(`/proc/${e}/cmdline`).split('\0').join(' ').trim();
    if ((cmd === 'ocirun init' || cmd === 'runc init') && isAlive(Number(e))) out.push(Number(e));
  }
  return out;
}

/**
 * Inits that appeared since `before` and belong to this test: other sessions run
 * containers on this host too, so an init counts only if it sits in a cgroup named
 * after our (pid-unique) id or its mount table mentions our bundle directory.
 */
export function strayInits(before: Set<number>, id: string, bundleDir: string): string[] {
  const out: string[] = [];
  for (const pid of runtimeInits()) {
    if (before.has(pid)) continue;
    const cg = readOr(`/proc/${pid}/cgroup`);
    const mi = readOr(`/proc/${pid}/mountinfo`);
    if (cg.includes(`/${id}\n`) || mi.includes(bundleDir)) out.push(`${pid}: ${cg.split('\n')[0] ?? ''}`);
  }
  return out;
}

/** Decodes runc's logrus text lines (msg="..." with Go quoting); bare lines pass through. */
export function messages(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => {
      const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
      return m === null ? line : (JSON.parse(`"${m[1]}"`) as string);
    })
    .join('\n');
}

/** A run that failed with a real exit code (not a signal) and whose error messages name every needle. */
export function expectFailed(r: RunResult, ...needles: (string | RegExp)[]): void {
  expect(r.code, explain(r)).not.toBe(0);
  expect(r.code, explain(r)).not.toBeNull();
  const text = messages(r.stderr);
  for (const n of needles) {
    if (typeof n === 'string') expect(text, explain(r)).toContain(n);
    else expect(text, explain(r)).toMatch(n);
  }
}

export interface NothingLeftOptions {
  /** Where to look for mounts; the bundle directory unless given (e.g. the test's whole scratch dir). */
  mountsUnder?: string;
  /** Processes of the test's own making (a racer) that share the rootfs and are not the runtime's. */
  ignorePids?: number[];
  /** The rootfs must still be there (its inode finds the container's processes); otherwise it may be absent. */
  requireRootfs?: boolean;
}

/**
 * No state dir, process, mount or cgroup left by container `id` (a bundle given as a directory has
 * its rootfs at <dir>/rootfs). Checked right after a failure, before the sandbox's teardown runs
 * `delete --force`, which would hide a half-made container.
 */
export function expectNothingLeft(rt: Runtime, id: string, bundle: string | Pick<Bundle, 'dir' | 'rootfs'>, opts: NothingLeftOptions = {}): void {
  const bundleDir = typeof bundle === 'string' ? bundle : bundle.dir;
  const rootfs = typeof bundle === 'string' ? path.join(bundle, 'rootfs') : bundle.rootfs;
  const stateDir = path.join(rt.root, id);
  expect(fs.existsSync(stateDir), `state dir ${stateDir} left behind`).toBe(false);
  const inodes: InodeKey[] = [];
  if (opts.requireRootfs || fs.existsSync(rootfs)) {
    const st = fs.statSync(rootfs);
    inodes.push({ dev: st.dev, ino: st.ino });
  }
  const ignore = opts.ignorePids ?? [];
  const left = {
    processes: scanProcesses(scratchBase(), inodes).filter((p) => !ignore.includes(p.pid)),
    mounts: scanMounts(opts.mountsUnder ?? bundleDir),
    cgroups: scanCgroups([id]),
    stateDirs: [],
  };
  expect(isEmpty(left), summarize(left)).toBe(true);
}

export interface Watched {
  pid: number;
  /** Resolves once the runtime's stdout contains text; rejects if it exits first or on timeout. */
  waitForStdout(text: string, timeoutMs?: number): Promise<void>;
  done: Promise<RunResult>;
  /** SIGKILLs the runtime if it is still running and waits for it; for finally blocks. */
  stop(): Promise<void>;
}

/**
 * A runtime run whose stdout the test reads while it runs (runInBackground only
 * hands output over at exit). Output is capped by the hard timeout like every run.
 */
export function runWatched(rt: Runtime, args: string[], timeoutMs = 15_000): Watched {
  const argv = ['--root', rt.root, ...args];
  const child: ChildProcess = spawn(rt.bin, argv, { env: runtimeEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<RunResult>((resolve) => {
    child.once('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      for (const l of listeners) l();
      resolve({ argv: [rt.bin, ...argv], code, signal, stdout, stderr, timedOut: false });
    });
  });
  return {
    pid: child.pid ?? -1,
    done,
    waitForStdout(text: string, waitMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${text}" within ${waitMs} ms; stdout so far: ${stdout}\nstderr: ${stderr}`));
        }, waitMs);
        function check(): void {
          if (stdout.includes(text)) {
            clearTimeout(t);
            listeners.delete(check);
            resolve();
          } else if (exited) {
            clearTimeout(t);
            listeners.delete(check);
            reject(new Error(`runtime exited before printing "${text}"\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        }
        listeners.add(check);
        check();
      });
    },
    async stop(): Promise<void> {
      if (!exited) child.kill('SIGKILL');
      await done;
    },
  };
}

/** Starts a runtime command without waiting, for tests that race two commands. */
export function runAsync(rt: Runtime, args: string[], timeoutMs = 15_000): Promise<RunResult> {
  const w = runWatched(rt, args, timeoutMs);
  return w.done;
}
