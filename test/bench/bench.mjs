// Benchmark harness (make bench): ocirun vs runc, and crun where it can run, call by call, interleaved, timed
// by a static C helper; writes a markdown report (docs/testing.md explains it). Options are environment variables.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanUp } from './cleanup.mjs';
import { makeBundles } from './fixtures.mjs';
import { FIXTURES, pathBenches } from './paths.mjs';
import { Results, render, seccompLines } from './report.mjs';
import { control, Interrupted, startRuntimes, which } from './runtimes.mjs';
import { scaleRound, scaleRows } from './scale.mjs';
import { SECCOMP_TARGET_MS, seccompBench } from './seccomp.mjs';
import { buildTimer } from './timer.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function intEnv(name, dflt, min) {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? dflt : Number(raw);
  if (!Number.isInteger(v) || v < min) {
    console.error(`${name} must be an integer ≥ ${min}, got ${raw}`);
    process.exit(2);
  }
  return v;
}

const cfg = {
  ocirun: path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO_ROOT, 'dist', 'ocirun')),
  runc: process.env.RUNC_BIN ?? '/usr/sbin/runc',
  // CRUN_BIN= (empty) leaves crun out.
  crun: process.env.CRUN_BIN === undefined ? which('crun') : process.env.CRUN_BIN || undefined,
  n: intEnv('BENCH_N', 20, 1),
  warmup: intEnv('BENCH_WARMUP', 2, 0),
  busy: intEnv('BENCH_BUSY', 2000, 1),
  scale: intEnv('BENCH_SCALE', 50, 1),
  scaleRounds: intEnv('BENCH_SCALE_ROUNDS', 3, 1),
  out: process.env.BENCH_OUT || path.join(REPO_ROOT, 'build', 'bench.md'),
};

const benches = pathBenches({ busyCount: cfg.busy });
const KEYS = [...benches.map((b) => b.key), 'scale', 'seccomp'];
const only = new Set((process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
for (const k of only) {
  if (!KEYS.includes(k)) {
    console.error(`BENCH_ONLY: unknown name ${k}; names: ${KEYS.join(', ')}`);
    process.exit(2);
  }
}
const selected = (key) => only.size === 0 || only.has(key);

/**
 * Measured commands get a cleaned environment: NODE_EXTRA_CA_CERTS makes every Node start (ocirun is a Node
 * executable) parse a CA bundle, ~90 ms that has nothing to do with containers; NODE_OPTIONS could likewise
 * load extra code into ocirun only.
 */
const DROPPED_ENV = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];
const removedEnv = DROPPED_ENV.filter((k) => process.env[k] !== undefined);
const measuredEnv = { ...process.env };
for (const k of DROPPED_ENV) delete measuredEnv[k];

function versionOf(bin, lines = 1) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env: measuredEnv });
  if (r.status !== 0) return `(\`${bin} --version\` failed)`;
  return r.stdout.split('\n').slice(0, lines).map((l) => l.trim()).filter((l) => l !== '').join(', ');
}

// A first ctrl-C lets the call in flight finish, then cleans up; a second one stops at once (and may leave things).
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    signals += 1;
    control.interrupted = true;
    if (signals === 1) console.error(`\n${sig}: finishing the current call, then cleaning up`);
    else process.exit(130);
  });
}

const progress = (s) => process.stderr.write(`${s}\n`);

/**
 * One iteration; a failure (a runtime call exiting non-zero, a container that did not behave) is recorded for
 * the report and the run goes on, so one flaky call does not cost the other numbers; the run still exits 1.
 * Containers the iteration made are force-deleted. An interrupt is not a failure: it ends the run.
 */
async function attempt(rt, what, results, fn) {
  const before = rt.ids.length;
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    results.fail(what, rt.name, e instanceof Error ? e.message : String(e));
    progress(`FAILED ${what} (${rt.name}): ${e instanceof Error ? e.message : String(e)}`);
    for (const id of rt.ids.slice(before)) await rt.remove(id).catch(() => {});
    return undefined;
  }
}

async function runPaths(runtimes, ctx, results) {
  const chosen = benches.filter((b) => selected(b.key));
  const fixtures = Object.fromEntries(runtimes.map((rt) => [rt.name, {}]));
  for (const [i, bench] of chosen.entries()) {
    for (const row of bench.rows) results.declare(row);
    const active = runtimes.filter((rt) => rt.unsupported[bench.key] === undefined);
    for (const rt of runtimes) {
      const why = rt.unsupported[bench.key];
      if (why !== undefined) for (const row of bench.rows) results.notApplicable(row.label, rt.name, why);
    }
    for (const rt of active) {
      for (const f of bench.needs ?? []) fixtures[rt.name][f] ??= await FIXTURES[f](rt, ctx);
    }
    for (let iter = 0; iter < cfg.warmup + cfg.n; iter += 1) {
      // Interleaving A B A B spreads drift (page cache, CPU frequency, neighbours) over all runtimes alike.
      for (const rt of active) {
        const ms = await attempt(rt, bench.key, results, () => bench.once(rt, { ...ctx, fixtures: fixtures[rt.name] }));
        if (ms !== undefined && iter >= cfg.warmup) for (const m of ms) results.add(rt.name, m);
      }
    }
    const later = new Set(chosen.slice(i + 1).flatMap((b) => b.needs ?? []));
    for (const rt of runtimes) {
      for (const [f, c] of Object.entries(fixtures[rt.name])) {
        if (later.has(f)) continue;
        await rt.remove(c.id);
        delete fixtures[rt.name][f];
      }
    }
    progress(`done: ${bench.key}`);
  }
}

async function runScale(runtimes, ctx, results) {
  const rows = scaleRows(cfg.scale);
  for (const row of Object.values(rows)) results.declare(row);
  const execs = Math.max(1, Math.ceil(cfg.n / cfg.scaleRounds));
  for (let round = 0; round < cfg.scaleRounds; round += 1) {
    for (const rt of runtimes) {
      const ms = await attempt(rt, 'scale', results, () => scaleRound(rt, ctx, { count: cfg.scale, execs }));
      for (const m of ms ?? []) results.add(rt.name, m);
    }
    progress(`done: scale round ${round + 1}/${cfg.scaleRounds}`);
  }
  return execs;
}

function notes({ runtimes, crunNote, scaleExecs }) {
  const names = runtimes.map((rt) => rt.name);
  const out = [
    `N: ${cfg.n} measured iterations per runtime and path after ${cfg.warmup} warm-up, interleaved ` +
      `${[...names, ...names].join(' ')} …; time is the median, memory the largest value seen`,
  ];
  if (scaleExecs !== undefined) {
    out.push(
      `scale: ${cfg.scaleRounds} rounds of ${cfg.scale} containers per runtime, runtimes in turn (never two runtimes' ` +
        `containers at once); exec series of ${scaleExecs} (+1 warm-up) per round`,
    );
  }
  out.push(
    'timing: every call is fork/exec\'d by test/bench/timer.c (static musl binary): wall time from fork to ' +
      'wait4\'s reap, peak RSS is wait4\'s ru_maxrss (the process\'s own peak, or a descendant\'s that it ' +
      'waited for if larger); stdin /dev/null (update: a JSON file), stdout/stderr to files',
    `environment: NODE_EXTRA_CA_CERTS and NODE_OPTIONS unset for every measured command` +
      (removedEnv.length > 0 ? ` (removed here: ${removedEnv.join(', ')})` : ' (neither was set)'),
    crunNote,
  );
  return out;
}

async function main() {
  if (only.size === 1 && only.has('seccomp')) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `ocirun-bench-${process.pid}-`));
    try {
      process.stdout.write(`${seccompLines(await seccompBench({ repoRoot: REPO_ROOT, scratch, n: cfg.n }), SECCOMP_TARGET_MS).join('\n')}\n`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    return 0;
  }
  if (!fs.existsSync(cfg.ocirun)) throw new Error(`${cfg.ocirun} not found: build it first (make) or set OCIRUN_BIN`);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `ocirun-bench-${process.pid}-`));
  const runtimes = [];
  let bundles;
  let status = 0;
  try {
    const timerBin = buildTimer(scratch);
    bundles = makeBundles(path.join(scratch, 'bundles'), cfg.runc, cfg.busy);
    const updateJson = path.join(scratch, 'update.json');
    fs.writeFileSync(updateJson, JSON.stringify({ memory: { limit: 512 * 2 ** 20 }, pids: { limit: 4096 }, cpu: { shares: 1024 } }));
    const crunNote = await startRuntimes(runtimes, {
      scratch, env: measuredEnv, timerBin, ocirunBin: cfg.ocirun, runcBin: cfg.runc, crunBin: cfg.crun, probeBundle: bundles.true,
    });
    const active = runtimes.filter((rt) => !rt.skipped);
    const ctx = {
      scratch,
      bundles,
      busyCount: cfg.busy,
      updateJson,
      helperPids: new Set(runtimes.map((rt) => rt.timer.proc.pid)),
      notes: new Set(),
    };
    const results = new Results();
    await runPaths(active, ctx, results);
    const scaleExecs = selected('scale') ? await runScale(active, ctx, results) : undefined;
    const seccomp = selected('seccomp') ? await seccompBench({ repoRoot: REPO_ROOT, scratch, n: cfg.n }) : undefined;

    const versions = [['ocirun', `${versionOf(cfg.ocirun, 2)} (${cfg.ocirun})`], ['runc', versionOf(cfg.runc)]];
    if (active.some((rt) => rt.name === 'crun')) versions.push(['crun', versionOf(cfg.crun)]);
    const sizes = active.map((rt) => {
      const real = fs.realpathSync(rt.bin);
      return [rt.name, real, fs.statSync(real).size];
    });
    const report = render({
      meta: { date: new Date().toISOString(), versions, sizes, notes: [...notes({ runtimes: active, crunNote, scaleExecs }), ...ctx.notes] },
      results,
      names: active.map((rt) => rt.name),
      seccomp,
      seccompTargetMs: SECCOMP_TARGET_MS,
    });
    process.stdout.write(report);
    fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
    fs.writeFileSync(cfg.out, report);
    progress(`written to ${cfg.out}`);
    if (results.failures.size > 0) {
      console.error('bench: some calls failed (see "Failed calls" in the report)');
      status = 1;
    }
  } catch (e) {
    console.error(e instanceof Interrupted ? 'bench interrupted' : `bench failed: ${e instanceof Error ? e.message : String(e)}`);
    status = e instanceof Interrupted ? 130 : 1;
  } finally {
    const problems = await cleanUp({ repoRoot: REPO_ROOT, scratch, runtimes, rootfs: bundles?.rootfs ?? path.join(scratch, 'bundles', 'rootfs') });
    if (problems.length > 0) {
      console.error(`cleanup:\n${problems.join('\n')}`);
      if (status === 0) status = 1;
    } else {
      progress('clean: no container, process, mount, cgroup or state dir of this run is left');
    }
  }
  return status;
}

process.exit(await main());
