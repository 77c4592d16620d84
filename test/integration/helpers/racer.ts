// A host-side process that exchanges two names with renameat2(RENAME_EXCHANGE) in a tight loop, the
// way the symlink-exchange CVEs race a runtime's path resolution (a volume shared with another container).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT, runtimeEnv } from './env';

export interface Swapper {
  pid: number;
  /** Stops the loop and resolves with the number of exchanges made. */
  stop(): Promise<number>;
}

// Swaps in batches so that the child's event loop still sees SIGTERM between them. The names are
// argv, so the sandbox's leftover scan finds a swapper a failed test forgot to stop.
const SCRIPT = `
const [koffiPath, a, b] = process.argv.slice(1);
const lib = require(koffiPath).load('libc.so.6');
const renameat2 = lib.func('int renameat2(int, const char *, int, const char *, unsigned int)');
let swaps = 0;
process.on('SIGTERM', () => { process.stdout.write(String(swaps)); process.exit(0); });
(function batch() {
  for (let i = 0; i < 2000; i++) if (renameat2(-100, a, -100, b, 2) === 0) swaps++;
  setImmediate(batch);
})();
`;

export function startSwapper(a: string, b: string): Swapper {
  const koffi = path.join(REPO_ROOT, 'node_modules', 'koffi');
  const child = spawn(process.execPath, ['-e', SCRIPT, koffi, a, b], { env: runtimeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    pid: child.pid ?? -1,
    async stop(): Promise<number> {
      child.kill('SIGTERM');
      await exited;
      const n = Number(out);
      if (!out || Number.isNaN(n)) throw new Error(`swapper ${a} <-> ${b} failed: ${err || out}`);
      return n;
    },
  };
}
