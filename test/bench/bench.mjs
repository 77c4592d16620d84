// Benchmark harness: ocirun vs runc (and crun when usable), interleaved, median wall times for
// --version, run of /bin/true, create+start+delete, exec of /bin/true in a running container, and stats/ps
// of a container with thousands of processes, plus the resident memory of a created container's waiting
// init; prints a markdown table. Also times compiling podman's seccomp profile in process (no runtime
// comparison applies), from src/seccomp/compile.ts bundled on the fly, skipped while that module is absent.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OCIRUN_BIN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO_ROOT, 'dist', 'ocirun'));
const RUNC_BIN = process.env.RUNC_BIN ?? '/usr/sbin/runc';
const N = Number.parseInt(process.env.BENCH_N ?? '20', 10);
const WARMUP = 2;
// Processes in the busy container that `events --stats` and `ps` are measured on.
const BUSY = Number.parseInt(process.env.BENCH_BUSY ?? '2000', 10);

// BENCH_ONLY=seccomp runs the in-process seccomp compile measurement alone (no containers); BENCH_ONLY=exec
// only the exec timing and the waiting init's memory. OCIRUN_BASELINE_BIN adds an older ocirun as a runtime.
const ONLY = process.env.BENCH_ONLY;
const BASELINE_BIN = process.env.OCIRUN_BASELINE_BIN;
const SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';
const SECCOMP_TARGET_MS = 10;

if (!Number.isInteger(N) || N < 1) {
  console.error(`BENCH_N must be a positive integer, got ${process.env.BENCH_N}`);
  process.exit(2);
}

/**
 * Measured commands get a cleaned environment: NODE_EXTRA_CA_CERTS makes every Node
 * start (ocirun is a Node executable) parse a CA bundle, ~90 ms that has nothing to do
 * with containers; NODE_OPTIONS could likewise load extra code into ocirun only.
 */
const removedEnv = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'].filter((k) => process.env[k] !== undefined);
const measuredEnv = { ...process.env };
for (const k of ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']) delete measuredEnv[k];

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}

function firstLine(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: measuredEnv });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : `(failed: ${bin} ${args.join(' ')})`;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `ocirun-bench-${process.pid}-`));
const runtimes = [];
let cleanedUp = false;

/** Busybox rootfs, same layout the integration tests use, shared read-only by all runs. */
function buildRootfs(dir) {
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' });
  for (const applet of list.stdout.split('\n')) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

function makeBundle(dir, args = ['/bin/true']) {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync(RUNC_BIN, ['spec', '--bundle', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
  const configPath = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  spec.process.terminal = false;
  spec.process.args = args;
  // Read-only so one rootfs can serve every runtime and iteration unchanged.
  spec.root.readonly = true;
  fs.writeFileSync(configPath, JSON.stringify(spec, null, '\t'));
  buildRootfs(path.join(dir, 'rootfs'));
  return dir;
}

const errFile = path.join(scratch, 'stderr');

/**
 * Stdout is discarded and stderr goes to a file rather than a pipe: a created
 * container's init inherits both, and a pipe would keep spawnSync waiting for EOF.
 */
function exec(rt, args) {
  const errFd = fs.openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(rt.bin, args, { stdio: ['ignore', 'ignore', errFd], env: measuredEnv, timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.closeSync(errFd);
  if (r.status !== 0) {
    const err = fs.readFileSync(errFile, 'utf8');
    throw new Error(`${rt.name}: ${rt.bin} ${args.join(' ')} exited ${r.status ?? r.signal}: ${err}`);
  }
  return ms;
}

function withRoot(rt, args) {
  return ['--root', rt.root, ...args];
}

let seq = 0;
const nextId = (rt) => `bench-${process.pid}-${rt.name}-${(seq += 1)}`;

const BENCHMARKS = [
  {
    name: '`--version`',
    once: (rt) => exec(rt, ['--version']),
  },
  {
    name: '`run` /bin/true',
    once: (rt, bundle) => exec(rt, withRoot(rt, ['run', '--bundle', bundle, nextId(rt)])),
  },
  {
    name: '`create` + `start` + `delete --force`',
    // --force spares a polling loop: `true` may or may not have exited by delete time.
    once: (rt, bundle) => {
      const id = nextId(rt);
      return (
        exec(rt, withRoot(rt, ['create', '--bundle', bundle, id])) +
        exec(rt, withRoot(rt, ['start', id])) +
        exec(rt, withRoot(rt, ['delete', '--force', id]))
      );
    },
  },
  {
    name: '`exec` /bin/true in a running container',
    exec: true,
    once: (rt) => exec(rt, withRoot(rt, ['exec', rt.sleeper, '/bin/true'])),
  },
  {
    name: `\`events --stats\` of a container with ${BUSY} processes`,
    once: (rt) => exec(rt, withRoot(rt, ['events', '--stats', rt.busy])),
  },
  {
    name: `\`ps --format json\` of a container with ${BUSY} processes`,
    once: (rt) => exec(rt, withRoot(rt, ['ps', '--format', 'json', rt.busy])),
  },
];

// A running container holding BUSY sleeping processes, per runtime, for the stats and ps benchmarks.
function startBusy(rt, bundle) {
  rt.busy = nextId(rt);
  exec(rt, withRoot(rt, ['run', '--detach', '--bundle', bundle, rt.busy]));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = spawnSync(rt.bin, withRoot(rt, ['ps', '--format', 'json', rt.busy]), { encoding: 'utf8', env: measuredEnv });
    if ((JSON.parse(r.stdout || 'null') ?? []).length >= BUSY + 1) return;
    if (Date.now() > deadline) throw new Error(`${rt.name}: the busy container did not reach ${BUSY} processes`);
    spawnSync('sleep', ['0.2']);
  }
}

/** VmRSS (kB) of a created container's init, which waits on exec.fifo until `start`. */
function waitingInitRss(rt, bundle) {
  const id = nextId(rt);
  exec(rt, withRoot(rt, ['create', '--bundle', bundle, id]));
  try {
    const r = spawnSync(rt.bin, withRoot(rt, ['state', id]), { encoding: 'utf8', env: measuredEnv });
    const { pid } = JSON.parse(r.stdout);
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m[1]);
  } finally {
    exec(rt, withRoot(rt, ['delete', '--force', id]));
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const rt of runtimes) {
    if (!fs.existsSync(rt.root)) continue;
    const r = spawnSync(rt.bin, ['--root', rt.root, 'list', '-q'], { encoding: 'utf8', env: measuredEnv });
    for (const id of (r.stdout ?? '').split('\n').filter((l) => l.trim() !== '')) {
      spawnSync(rt.bin, ['--root', rt.root, 'delete', '--force', id], { stdio: 'ignore', env: measuredEnv });
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/**
 * Median wall time of compileSeccomp on podman's default profile as podman would pass it for x86_64 (with the
 * x86 and x32 sub-arches and podman's default capabilities). The compiler is bundled from source with esbuild
 * so this needs no export from the executable; while src/seccomp/compile.ts does not exist the line says so.
 */
async function seccompBench() {
  const compiler = path.join(REPO_ROOT, 'src', 'seccomp', 'compile.ts');
  if (!fs.existsSync(compiler)) return { note: 'skipped: src/seccomp/compile.ts is not there yet' };
  if (!fs.existsSync(SECCOMP_PROFILE)) return { note: `skipped: ${SECCOMP_PROFILE} missing (apt install golang-github-containers-common)` };
  const esbuild = await import('esbuild');
  const outfile = path.join(scratch, 'seccomp-bench.cjs');
  await esbuild.build({
    stdin: {
      contents:
        "export { compileSeccomp } from './src/seccomp/compile';\n" +
        "export { podmanSeccomp } from './test/integration/helpers/podman-seccomp';\n",
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile,
    external: ['koffi'],
    define: { OCIRUN_VERSION: '"bench"', OCIRUN_COMMIT: '"bench"' },
    logLevel: 'warning',
  });
  const { compileSeccomp, podmanSeccomp } = createRequire(import.meta.url)(outfile);
  if (typeof compileSeccomp !== 'function') return { note: 'skipped: src/seccomp/compile.ts exports no compileSeccomp' };
  const profile = podmanSeccomp(SECCOMP_PROFILE, { arch: 'SCMP_ARCH_X86_64' });
  const first = compileSeccomp(profile, 'x86_64');
  // Compiling takes milliseconds, so many more rounds than the process benchmarks for a stable median.
  const rounds = Math.max(100, N * 10);
  const times = [];
  for (let i = 0; i < 10 + rounds; i += 1) {
    const t0 = process.hrtime.bigint();
    compileSeccomp(profile, 'x86_64');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 10) times.push(ms);
  }
  const names = profile.syscalls.reduce((n, s) => n + s.names.length, 0);
  return {
    name:
      `\`compileSeccomp\` of podman's default profile (${profile.architectures.join('+')}, ` +
      `${profile.syscalls.length} rules, ${names} names) → ${first.filter.length / 8} instructions`,
    rounds,
    median: median(times),
  };
}

function seccompLines(r) {
  if (r.note !== undefined) return [`- seccomp compile: ${r.note}`];
  const verdict = r.median < SECCOMP_TARGET_MS ? 'ok' : 'OVER TARGET';
  return [
    `| in-process benchmark | median (ms) | target | rounds |`,
    `|---|---:|---:|---:|`,
    `| ${r.name} | ${r.median.toFixed(3)} | < ${SECCOMP_TARGET_MS} ms (${verdict}) | ${r.rounds} |`,
  ];
}

function main(seccomp) {
  if (ONLY === 'seccomp') {
    process.stdout.write(`${seccompLines(seccomp).join('\n')}\n`);
    return;
  }
  if (!fs.existsSync(OCIRUN_BIN)) {
    throw new Error(`${OCIRUN_BIN} not found: build it first (make) or set OCIRUN_BIN`);
  }
  const bundle = makeBundle(path.join(scratch, 'bundle'));
  const busyBundle = makeBundle(path.join(scratch, 'busy'), [
    '/bin/sh', '-c', `i=0; while [ $i -lt ${BUSY} ]; do sleep 100000 & i=$((i+1)); done; exec sleep 100000`,
  ]);
  runtimes.push({ name: 'ocirun', bin: OCIRUN_BIN, root: path.join(scratch, 'root-ocirun') });
  if (BASELINE_BIN) runtimes.push({ name: 'ocirun-baseline', bin: path.resolve(BASELINE_BIN), root: path.join(scratch, 'root-baseline') });
  runtimes.push({ name: 'runc', bin: RUNC_BIN, root: path.join(scratch, 'root-runc') });

  const crunBin = process.env.CRUN_BIN ?? which('crun');
  const onlyExec = ONLY === 'exec';
  let crunNote = 'crun: not installed, skipped';
  if (crunBin !== undefined) {
    const crun = { name: 'crun', bin: crunBin, root: path.join(scratch, 'root-crun') };
    try {
      exec(crun, withRoot(crun, ['run', '--bundle', bundle, nextId(crun)]));
      runtimes.push(crun);
      crunNote = `crun: ${firstLine(crunBin, ['--version'])}`;
    } catch (e) {
      crunNote = `crun: installed but cannot run here, skipped (${String(e.message).split('\n')[0]})`;
    }
  }

  const sleepBundle = makeBundle(path.join(scratch, 'sleep'), ['/bin/sleep', '100000']);
  for (const rt of runtimes) {
    if (!onlyExec) startBusy(rt, busyBundle);
    rt.sleeper = nextId(rt);
    exec(rt, withRoot(rt, ['run', '--detach', '--bundle', sleepBundle, rt.sleeper]));
  }
  const results = [];
  for (const bench of BENCHMARKS.filter((b) => !onlyExec || b.exec)) {
    const times = Object.fromEntries(runtimes.map((rt) => [rt.name, []]));
    for (let i = 0; i < WARMUP + N; i += 1) {
      // Interleaving A B A B spreads drift (page cache, CPU frequency) over all runtimes alike.
      for (const rt of runtimes) {
        const ms = bench.once(rt, bundle);
        if (i >= WARMUP) times[rt.name].push(ms);
      }
    }
    const medians = Object.fromEntries(runtimes.map((rt) => [rt.name, median(times[rt.name])]));
    results.push({ name: bench.name, medians });
    process.stderr.write(`done: ${bench.name}\n`);
  }

  const names = runtimes.map((rt) => rt.name);
  const out = [];
  out.push('# ocirun benchmark');
  out.push('');
  out.push(`- date: ${new Date().toISOString()}`);
  out.push(`- kernel: ${os.release()} (\`uname -r\`)`);
  out.push(`- nproc: ${os.availableParallelism?.() ?? os.cpus().length}`);
  out.push(`- runc: ${firstLine(RUNC_BIN, ['--version'])}`);
  out.push(`- ocirun: ${firstLine(OCIRUN_BIN, ['--version'])} (${OCIRUN_BIN})`);
  out.push(`- ${crunNote}`);
  out.push(`- iterations: ${N} measured per runtime after ${WARMUP} warm-up, interleaved ${names.join(' ')} …`);
  out.push(
    `- environment: NODE_EXTRA_CA_CERTS and NODE_OPTIONS unset for measured commands` +
      ` (NODE_EXTRA_CA_CERTS costs ~90 ms per Node start)` +
      (removedEnv.length > 0 ? `; removed here: ${removedEnv.join(', ')}` : '; neither was set'),
  );
  out.push('');
  out.push(`| benchmark | ${names.map((n) => `${n} median (ms)`).join(' | ')} | ocirun/runc |`);
  out.push(`|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const r of results) {
    const ratio = r.medians.ocirun / r.medians.runc;
    out.push(`| ${r.name} | ${names.map((n) => r.medians[n].toFixed(1)).join(' | ')} | ${ratio.toFixed(2)}× |`);
  }
  const rss = Object.fromEntries(runtimes.map((rt) => [rt.name, []]));
  for (let i = 0; i < 5; i += 1) for (const rt of runtimes) rss[rt.name].push(waitingInitRss(rt, bundle));
  out.push(`| VmRSS of a created container's waiting init (kB, median of 5) | ${names.map((n) => median(rss[n])).join(' | ')} | ${(median(rss.ocirun) / median(rss.runc)).toFixed(2)}× |`);
  if (!onlyExec) out.push('', ...seccompLines(seccomp));
  process.stdout.write(`${out.join('\n')}\n`);
}

let status = 0;
try {
  main(ONLY === 'exec' ? undefined : await seccompBench());
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  status = 1;
} finally {
  cleanup();
}
process.exit(status);
