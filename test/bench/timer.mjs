// Node side of the timing helper (timer.c): builds it with musl-gcc at bench time and talks to one helper
// server per runtime; every measured or fixture call of a runtime goes through its server.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'timer.c');

/** Compiles timer.c into dir (static, so it runs the same inside any mount namespace). */
export function buildTimer(dir) {
  const out = path.join(dir, 'bench-timer');
  const r = spawnSync('musl-gcc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, SOURCE], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`musl-gcc timer.c failed (apt install musl-tools): ${r.error?.message ?? r.stderr}`);
  }
  return out;
}

export class Timer {
  /**
   * The server gets its own session (detached): a ctrl-C then reaches only the harness, which lets the call
   * in flight finish and cleans up through the same server. env is the measured environment.
   */
  constructor(bin, { env, cgroup2Namespace = false }) {
    this.proc = spawn(bin, cgroup2Namespace ? ['--cgroup2-ns'] : [], { stdio: ['pipe', 'pipe', 'inherit'], env, detached: true });
    this.waiting = [];
    this.buffer = '';
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.resolve(line);
      }
    });
    this.proc.on('exit', (code, signal) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`timer server exited (${code ?? signal})`));
    });
    this.proc.on('error', (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  async request(fields) {
    for (const f of fields) if (String(f).includes('\0')) throw new Error(`NUL in request field ${JSON.stringify(f)}`);
    const line = await new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(`${fields.join('\0')}\0\0`);
    });
    if (!line.startsWith('ok')) throw new Error(`timer: ${line}`);
    return line.split(' ').slice(1);
  }

  /** One call: { status, ms, rssKiB } (rssKiB is wait4's ru_maxrss). */
  async run(argv, { stdin = '/dev/null', stdout = '/dev/null', stderr = '/dev/null' } = {}) {
    const [status, ns, rss] = await this.request(['run', stdin, stdout, stderr, ...argv]);
    return { status: Number(status), ms: Number(ns) / 1e6, rssKiB: Number(rss) };
  }

  /** count calls at once, "{}" in argv/stdout/stderr being the index: { totalMs, calls: [{ status, ms, rssKiB }] }. */
  async batch(count, argv, { stdin = '/dev/null', stdout = '/dev/null', stderr = '/dev/null' } = {}) {
    const [total, ...calls] = await this.request(['batch', count, stdin, stdout, stderr, ...argv]);
    return {
      totalMs: Number(total) / 1e6,
      calls: calls.map((c) => {
        const [status, ns, rss] = c.split(',');
        return { status: Number(status), ms: Number(ns) / 1e6, rssKiB: Number(rss) };
      }),
    };
  }

  /** A call that makes pid exit (kill); ms runs from the fork until pid is dead. */
  async runUntilGone(pid, argv, { stdin = '/dev/null', stdout = '/dev/null', stderr = '/dev/null' } = {}) {
    const [status, ns, rss] = await this.request(['kill', pid, stdin, stdout, stderr, ...argv]);
    return { status: Number(status), ms: Number(ns) / 1e6, rssKiB: Number(rss) };
  }

  async waitGone(pid, timeoutMs = 30_000) {
    await this.request(['wait', pid, timeoutMs]);
  }

  async close() {
    this.proc.stdin.end();
    await this.exited;
  }
}
