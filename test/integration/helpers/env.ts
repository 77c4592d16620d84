// Integration-test environment: where the repo, the runtime binaries and the
// per-run scratch area live, and which environment variables measured commands get.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Walks up from the working directory because vitest may be started from a subdirectory. */
function findRepoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        const parsed = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown };
        if (parsed.name === 'ocirun') return dir;
      } catch {
        // A foreign or broken package.json: keep climbing.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const RUNC_BIN = process.env.RUNC_BIN ?? '/usr/sbin/runc';
export const OCIRUN_BIN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO_ROOT, 'dist', 'ocirun'));
export const BUSYBOX = '/bin/busybox';

/**
 * True when OCIRUN_BIN is runc itself (the oracle mode used before dist/ocirun exists).
 * Tests of behaviour that is deliberately ocirun's own (version format, JSON error
 * positions) skip themselves then instead of failing for a known, intended reason.
 */
export const OCIRUN_IS_RUNC = (() => {
  try {
    return fs.realpathSync(OCIRUN_BIN) === fs.realpathSync(RUNC_BIN);
  } catch {
    return false;
  }
})();

/**
 * Environment for every runtime invocation. NODE_EXTRA_CA_CERTS makes each Node start
 * parse a CA bundle (~90 ms); NODE_OPTIONS could inject vitest's loaders into a
 * Node-based runtime. Neither has anything to do with containers.
 */
export function runtimeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

let runBase: string | undefined;

/**
 * One scratch directory per test-file process. The prefix is what the leftover
 * scanners look for, so it must be unique to this process: other sessions may run
 * the same suite on this host at the same time.
 */
export function scratchBase(): string {
  if (runBase === undefined) {
    runBase = fs.mkdtempSync(path.join(os.tmpdir(), `ocirun-it-${process.pid}-`));
  }
  return runBase;
}

/** Container ids land in global cgroup paths, so they carry the pid to stay unique per run. */
export function uniqueId(base: string): string {
  return `${base}-${process.pid}`;
}

// Fails the suite up front, with the fix in the message, when a runtime binary is missing.
export function requireBinaries(...bins: string[]): void {
  for (const bin of bins) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist (build dist/ocirun or set OCIRUN_BIN)`);
  }
}

export function sh(script: string): string[] {
  return ['sh', '-c', script];
}
