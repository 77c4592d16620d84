// The runtimes under comparison (ocirun, runc, crun when it can run) with their own --root and timer server,
// container fixtures built from their calls, and the forced removal of everything they created.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Timer } from './timer.mjs';

/** Set by the harness's SIGINT/SIGTERM handler: the next call throws instead of starting, unless cleaning. */
export const control = { interrupted: false, cleaning: false };

export class Interrupted extends Error {}

export function which(cmd) {
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

export class Runtime {
  /**
   * global: options every call but --version gets (crun's --cgroup-manager=disabled); timer: the helper
   * server its calls run under; unsupported: path key -> why this runtime cannot do it here.
   */
  constructor({ name, bin, scratch, timer, global = [], unsupported = {}, how }) {
    this.name = name;
    this.bin = bin;
    this.root = path.join(scratch, `root-${name}`);
    this.timer = timer;
    this.global = global;
    this.unsupported = unsupported;
    this.how = how;
    this.out = path.join(scratch, `out-${name}`);
    this.err = path.join(scratch, `err-${name}`);
    this.ids = [];
    this.seq = 0;
  }

  nextId() {
    this.seq += 1;
    const id = `ob${process.pid}-${this.name}-${this.seq}`;
    this.ids.push(id);
    return id;
  }

  argv(args) {
    return [this.bin, ...this.global, '--root', this.root, ...args];
  }

  check(r, args) {
    if (r.status === 0) return r;
    let err = '';
    try {
      err = fs.readFileSync(this.err, 'utf8').trim();
    } catch {
      // No stderr file: nothing to add.
    }
    throw new Error(`${this.name}: ${args.join(' ')} exited ${r.status}: ${err}`);
  }

  gate() {
    if (control.interrupted && !control.cleaning) throw new Interrupted('interrupted');
  }

  /** A measured call: { status, ms, rssKiB }; throws unless it exits 0. raw: no --root/global options. */
  async call(args, { stdin, raw = false } = {}) {
    this.gate();
    const argv = raw ? [this.bin, ...args] : this.argv(args);
    return this.check(await this.timer.run(argv, { stdin, stdout: this.out, stderr: this.err }), args);
  }

  /** A call whose stdout is wanted (state, list). */
  async output(args) {
    await this.call(args);
    return fs.readFileSync(this.out, 'utf8');
  }

  /** kill (or any call) timed until pid has exited. */
  async callUntilGone(pid, args) {
    this.gate();
    return this.check(await this.timer.runUntilGone(pid, this.argv(args), { stdout: this.out, stderr: this.err }), args);
  }

  /** count calls at once; "{}" in args is the index. Throws if any failed. */
  async batch(count, args) {
    this.gate();
    const errTpl = `${this.err}-{}`;
    const r = await this.timer.batch(count, this.argv(args), { stdout: `${this.out}-{}`, stderr: errTpl });
    const failed = r.calls.findIndex((c) => c.status !== 0);
    if (failed >= 0) {
      const err = fs.readFileSync(errTpl.replace('{}', String(failed)), 'utf8').trim();
      throw new Error(`${this.name}: ${args.join(' ').replaceAll('{}', String(failed))} exited ${r.calls[failed].status}: ${err}`);
    }
    return r;
  }

  pidFile(id) {
    return path.join(path.dirname(this.root), `pid-${id}`);
  }

  readPid(id) {
    return Number(fs.readFileSync(this.pidFile(id), 'utf8').trim());
  }

  /** create with --pid-file: { id, pid, create } (create is the measured call). */
  async create(bundle, id = this.nextId()) {
    const create = await this.call(['create', '--bundle', bundle, '--pid-file', this.pidFile(id), id]);
    return { id, pid: this.readPid(id), create };
  }

  /** A running container of bundle (not measured): { id, pid }. */
  async running(bundle) {
    const c = await this.create(bundle);
    await this.call(['start', c.id]);
    return { id: c.id, pid: c.pid };
  }

  async remove(id) {
    await this.call(['delete', '--force', id]);
  }

  /**
   * Deletes every container left in this runtime's root (by its state directories, which all three runtimes
   * name by id), through the timer server so crun runs in its namespace. Failures are collected, not thrown.
   */
  async removeAll() {
    const problems = [];
    let ids = [];
    try {
      ids = fs.readdirSync(this.root).filter((e) => fs.statSync(path.join(this.root, e)).isDirectory());
    } catch {
      return problems;
    }
    for (const id of ids) {
      try {
        await this.remove(id);
      } catch (e) {
        problems.push(String(e.message ?? e));
      }
    }
    return problems;
  }
}

/**
 * ocirun and runc run on the host; crun 1.8 refuses the host's hybrid cgroup layout, so its calls go through
 * a timer server inside a private mount namespace with cgroup2 on /sys/fs/cgroup, set up once, and use
 * --cgroup-manager=disabled (crun's cgroupfs driver needs RLIMIT_MEMLOCK raised for its eBPF device filter,
 * which CAP_SYS_RESOURCE's absence forbids here). Without cgroups crun has no ps or update, and no events at all.
 * Each runtime is pushed to `runtimes` as soon as its server runs, so cleanup finds it even if a later step
 * fails; crun is marked skipped (and still cleaned up) if it cannot run a container. Returns a note on crun for the report.
 */
export async function startRuntimes(runtimes, { scratch, env, timerBin, ocirunBin, runcBin, crunBin, probeBundle }) {
  const hostTimer = () => new Timer(timerBin, { env });
  runtimes.push(new Runtime({ name: 'ocirun', bin: ocirunBin, scratch, timer: hostTimer(), how: 'host' }));
  runtimes.push(new Runtime({ name: 'runc', bin: runcBin, scratch, timer: hostTimer(), how: 'host' }));
  if (crunBin === undefined) return 'crun: not installed, skipped';
  const crun = new Runtime({
    name: 'crun',
    bin: crunBin,
    scratch,
    timer: new Timer(timerBin, { env, cgroup2Namespace: true }),
    global: ['--cgroup-manager=disabled'],
    unsupported: {
      ps: 'no cgroup to list (cgroups disabled)',
      update: 'no cgroup to update (cgroups disabled)',
      events: 'crun has no events command',
    },
    how: 'private mount namespace, cgroup2 on /sys/fs/cgroup, --cgroup-manager=disabled',
  });
  runtimes.push(crun);
  try {
    await crun.call(['run', '--bundle', probeBundle, crun.nextId()]);
  } catch (e) {
    const problems = await crun.removeAll();
    if (problems.length > 0) throw new Error(`crun probe failed and left containers: ${problems.join('; ')}`);
    crun.skipped = true;
    return `crun: installed but cannot run here, skipped (${String(e.message).split('\n')[0]})`;
  }
  const version = spawnSync(crunBin, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '?';
  return (
      `crun: ${version}, run in one private mount namespace (entered once by the timer helper: unshare(CLONE_NEWNS), ` +
      `/ made rprivate, cgroup2 mounted on /sys/fs/cgroup) with --cgroup-manager=disabled on every call, so its ` +
      `numbers include no cgroup work (ocirun and runc create and join cgroup v1 hierarchies)`
  );
}
