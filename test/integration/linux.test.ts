// The linux section of config.json (namespaces, devices, netDevices, hostname/domainname, timeOffsets):
// differential against runc 1.1.5 where it knows the field, direct assertions where it does not, bad input.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, BundleOptions, OciSpec } from './helpers/bundle';
import { runBoth, RUNTIMES } from './helpers/differential';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, scratchBase, sh, uniqueId } from './helpers/env';
import { normaliseLsDates, normaliseMountinfo } from './helpers/normalise';
import { expectFailed, expectNothingLeft, isAlive, waitUntil } from './helpers/observe';
import {
  create,
  del,
  explain,
  kill,
  ok,
  run,
  start,
  state,
  waitForStatus,
  type RunResult,
  type RuntimeName,
} from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

// ---------------------------------------------------------------------------------------------
// Helpers

function expectOk(r: RunResult, ...anchors: (string | RegExp)[]): void {
  expect(r.code, explain(r)).toBe(0);
  for (const a of anchors) {
    if (typeof a === 'string') expect(r.stdout, explain(r)).toContain(a);
    else expect(r.stdout, explain(r)).toMatch(a);
  }
}

const NS_FILES = ['user', 'uts', 'ipc', 'net', 'cgroup', 'pid', 'time', 'mnt'] as const;
const NS_SCRIPT = `for n in ${NS_FILES.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done`;

const nsOf = (pid: number | 'self', n: string) => fs.readlinkSync(`/proc/${pid}/ns/${n}`);

/**
 * Classifies each namespace the container printed (NS_SCRIPT) as the host's, a holder's, or new,
 * so two runs compare although new namespaces get new inode numbers.
 */
function classifyNs(stdout: string, holder?: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const [n, link] = line.split(' ');
    if (!(NS_FILES as readonly string[]).includes(n) || !link) continue;
    out[n] = link === nsOf('self', n) ? 'host' : holder !== undefined && link === nsOf(holder, n) ? 'joined' : 'new';
  }
  return out;
}

const nsEntry = (type: string) => (type === 'network' ? 'net' : type === 'mount' ? 'mnt' : type);

/** Container root as host uid 100000 needs a rootfs it owns and searchable directories above it. */
const HOST_BASE = 100000;
const MAPPING = [{ containerID: 0, hostID: HOST_BASE, size: 65536 }];
function chownRootfs(b: Bundle): void {
  const r = spawnSync('chown', ['-R', `${HOST_BASE}:${HOST_BASE}`, b.rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown failed: ${r.stderr}`);
  for (let d = b.dir; d.startsWith(scratchBase()); d = path.dirname(d)) fs.chmodSync(d, 0o755);
}

function childOf(ppid: number): number | undefined {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) return Number(e);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

interface Holder {
  /** A process inside every namespace the holder made: its /proc/<pid>/ns/* are the paths to join. */
  pid: number;
  ns(type: string): string;
}

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) {
    // unshare --kill-child takes the sleeping child with it.
    h.kill('SIGKILL');
  }
});

/**
 * Namespaces that belong to neither runtime: `unshare` makes them and a `sleep` keeps them alive.
 * With a user namespace, its root is host uid 100000 (written from here: no newuidmap on this host).
 */
function nsHolder(types: string[], opts: { hostname?: string; timeOffsets?: [number, number] } = {}): Holder {
  const flags = types.map((t) => `--${nsEntry(t) === 'mnt' ? 'mount' : nsEntry(t)}`);
  if (opts.timeOffsets) flags.push('--monotonic', String(opts.timeOffsets[0]), '--boottime', String(opts.timeOffsets[1]));
  const u = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  holders.push(u);
  let pid: number | undefined;
  // unshare forks only once every namespace exists (and the time offsets are written).
  waitUntil(() => (pid = childOf(u.pid!)) !== undefined, 'the namespace holder');
  const userns = types.includes('user');
  if (userns) {
    fs.writeFileSync(`/proc/${pid}/uid_map`, `0 ${HOST_BASE} 65536\n`);
    fs.writeFileSync(`/proc/${pid}/gid_map`, `0 ${HOST_BASE} 65536\n`);
  }
  if (opts.hostname) {
    const r = spawnSync('nsenter', ['-t', String(pid), ...(userns ? ['-U', '-S', '0', '-G', '0'] : []), '-u', 'hostname', opts.hostname], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nsenter hostname: ${r.stderr}`);
  }
  return { pid: pid!, ns: (type) => `/proc/${pid}/ns/${nsEntry(type)}` };
}

/** Joins the holder's namespaces of these types, adding entries the template lacks. */
function joinAll(s: OciSpec, h: Holder, types: string[]): void {
  for (const t of types) {
    const entry = s.linux!.namespaces!.find((n) => n.type === t);
    if (entry) entry.path = h.ns(t);
    else s.linux!.namespaces!.push({ type: t, path: h.ns(t) });
  }
}

/** An ocirun run that must fail, naming every needle, and leave nothing behind. */
function expectRejected(name: string, opts: BundleOptions, ...needles: (string | RegExp)[]): RunResult {
  const rt = sb.runtime('ocirun');
  const id = sb.track(rt, uniqueId(name));
  const b = sb.bundle({ args: ['true'], ...opts });
  const r = run(rt, ['run', '--bundle', b.dir, id]);
  expectFailed(r, ...needles);
  expectNothingLeft(rt, id, b);
  return r;
}

const withNs = (...types: string[]) => (s: OciSpec) => {
  for (const t of types) s.linux!.namespaces!.push({ type: t });
};

// ---------------------------------------------------------------------------------------------
// Namespaces

describe('namespaces: new', () => {
  test('each listed namespace is new, every other one is the host\'s', () => {
    const p = runBoth(sb, 'lx-ns-new', { args: sh(NS_SCRIPT), edit: withNs('cgroup') });
    expectOk(p.runc, 'mnt:[');
    expectOk(p.ocirun, 'mnt:[');
    const want = { user: 'host', uts: 'new', ipc: 'new', net: 'new', cgroup: 'new', pid: 'new', time: 'host', mnt: 'new' };
    expect(classifyNs(p.runc.stdout)).toEqual(want);
    expect(classifyNs(p.ocirun.stdout)).toEqual(want);
  });

  test('without a network or uts namespace the container uses the host\'s', () => {
    const p = runBoth(sb, 'lx-ns-hostnet', {
      args: sh(NS_SCRIPT),
      edit: (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'uts');
        delete s.hostname;
      },
    });
    expectOk(p.runc, 'net:[');
    expectOk(p.ocirun, 'net:[');
    expect(classifyNs(p.ocirun.stdout)).toEqual(classifyNs(p.runc.stdout));
    expect(classifyNs(p.ocirun.stdout)).toMatchObject({ net: 'host', uts: 'host', pid: 'new' });
  });

  test('a new network namespace has its loopback up, as under runc', () => {
    const p = runBoth(sb, 'lx-ns-lo', { args: sh('ip -o link; ip -o addr') });
    expectOk(p.runc, /^1: lo: <LOOPBACK,UP,LOWER_UP>/m, 'inet 127.0.0.1/8 scope host lo');
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  // runc 1.1.5 has no time namespace ("namespace time does not exist"): assertions are direct.
  test('user and time namespaces together, with clock offsets', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lx-ns-usertime'));
    const b = sb.bundle({
      args: sh(`${NS_SCRIPT}; cat /proc/self/uid_map /proc/self/timens_offsets`),
      edit: (s) => {
        s.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
        s.linux!.uidMappings = MAPPING;
        s.linux!.gidMappings = MAPPING;
        s.linux!.timeOffsets = { monotonic: { secs: 7881, nanosecs: 2718281 }, boottime: { secs: 1337, nanosecs: 3141519 } };
      },
    });
    chownRootfs(b);
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expectOk(r, /^ +0 +100000 +65536$/m, /^monotonic +7881 +2718281$/m, /^boottime +1337 +3141519$/m);
    expect(classifyNs(r.stdout)).toEqual({ user: 'new', uts: 'new', ipc: 'new', net: 'new', cgroup: 'host', pid: 'new', time: 'new', mnt: 'new' });
  });

  // runc 1.1.5 has no time namespace: direct assertions. The boottime offset shows in /proc/uptime.
  test('boottime offset moves /proc/uptime; no offsets means zero', () => {
    const DAY = 86400;
    const rt = sb.runtime('ocirun');
    const before = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const shifted = run(rt, [
      'run',
      '--bundle',
      sb.bundle({ args: ['cat', '/proc/uptime'], edit: (s) => { withNs('time')(s); s.linux!.timeOffsets = { boottime: { secs: DAY } }; } }, 'shifted').dir,
      sb.track(rt, uniqueId('lx-time-shift')),
    ]);
    const after = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expectOk(shifted, /^\d+\.\d+ /);
    const inside = Number(shifted.stdout.split(' ')[0]);
    expect(inside).toBeGreaterThanOrEqual(before + DAY);
    expect(inside).toBeLessThanOrEqual(after + DAY);

    const zero = run(rt, [
      'run',
      '--bundle',
      sb.bundle({ args: ['cat', '/proc/self/timens_offsets'], edit: withNs('time') }, 'zero').dir,
      sb.track(rt, uniqueId('lx-time-zero')),
    ]);
    expectOk(zero, /^monotonic +0 +0\nboottime +0 +0\n$/);
  });
});

describe('namespaces: joined by path', () => {
  test('user, uts, ipc, network, cgroup and pid of another process, user first', () => {
    const types = ['user', 'uts', 'ipc', 'network', 'cgroup', 'pid'];
    const h = nsHolder(types, { hostname: 'holder-uts' });
    const p = runBoth(
      sb,
      'lx-join',
      {
        args: sh(`${NS_SCRIPT}; hostname; cat /proc/self/uid_map /proc/1/comm; id -u; ls -ln /dev; cat /proc/self/cgroup`),
        edit: (s) => {
          joinAll(s, h, types);
          // runc 1.1.5 insists on mappings even for a joined user namespace; they restate the holder's.
          s.linux!.uidMappings = MAPPING;
          s.linux!.gidMappings = MAPPING;
          delete s.hostname;
        },
      },
      { prepare: chownRootfs },
    );
    expectOk(p.runc, 'holder-uts\n', /^ +0 +100000 +65536\nsleep\n0\n/m);
    expect(classifyNs(p.runc.stdout, h.pid)).toEqual({
      user: 'joined', uts: 'joined', ipc: 'joined', net: 'joined', cgroup: 'joined', pid: 'joined', time: 'host', mnt: 'new',
    });
    // Only the inode numbers of the container's own new mount namespace differ between the runs.
    const strip = (s: string) => normaliseLsDates(s.replace(/^mnt mnt:\[\d+\]$/m, 'mnt'));
    expect(strip(p.ocirun.stdout)).toBe(strip(p.runc.stdout));
  });

  // runc 1.1.5 can neither join a time namespace nor a user namespace without restated mappings.
  test('all eight types, the user namespace without mappings in the config', () => {
    const types = ['user', 'uts', 'ipc', 'network', 'cgroup', 'pid', 'time'];
    const h = nsHolder(types, { timeOffsets: [1000, 2000] });
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({
      args: sh(`${NS_SCRIPT}; cat /proc/self/uid_map /proc/self/timens_offsets`),
      edit: (s) => {
        joinAll(s, h, types);
        delete s.hostname;
      },
    });
    chownRootfs(b);
    const r = run(rt, ['run', '--bundle', b.dir, sb.track(rt, uniqueId('lx-join-all'))]);
    expectOk(r, /^ +0 +100000 +65536$/m, /^monotonic +1000 +0$/m, /^boottime +2000 +0$/m);
    expect(classifyNs(r.stdout, h.pid)).toEqual({
      user: 'joined', uts: 'joined', ipc: 'joined', net: 'joined', cgroup: 'joined', pid: 'joined', time: 'joined', mnt: 'new',
    });
  });

  test('a mount namespace kept alive by a bind-mounted ns file', () => {
    const made: string[] = [];
    try {
      const p = runBoth(sb, 'lx-join-mnt', () => ({ args: sh('readlink /proc/self/ns/mnt; cat /proc/self/mountinfo') }), {
        prepare: (b) => {
          // Fresh per runtime: the container pivots inside the namespace, which outlives it.
          const dir = path.join(b.dir, 'nsdir');
          fs.mkdirSync(dir);
          for (const args of [['--bind', dir, dir], ['--make-private', dir]]) {
            const r = spawnSync('mount', args, { encoding: 'utf8' });
            if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
          }
          made.push(dir);
          const file = path.join(dir, 'mnt');
          fs.writeFileSync(file, '');
          const u = spawnSync('unshare', [`--mount=${file}`, 'true'], { encoding: 'utf8' });
          if (u.status !== 0) throw new Error(`unshare --mount: ${u.stderr}`);
          made.push(file);
          const spec = JSON.parse(fs.readFileSync(b.configPath, 'utf8')) as OciSpec;
          spec.linux!.namespaces!.find((n) => n.type === 'mount')!.path = file;
          fs.writeFileSync(b.configPath, JSON.stringify(spec));
          // The ns file's own inode is the namespace's: the container must report exactly it.
          fs.writeFileSync(path.join(b.dir, 'expect'), `mnt:[${fs.statSync(file).ino}]`);
        },
      });
      for (const rtName of RUNTIMES) {
        const want = fs.readFileSync(path.join(scratchDirOf(p[rtName]), 'expect'), 'utf8');
        expectOk(p[rtName], `${want}\n`, ' /proc ');
      }
      const table = (r: RunResult) => normaliseMountinfo(r.stdout.split('\n').slice(1).join('\n'));
      expect(table(p.ocirun)).toEqual(table(p.runc));
    } finally {
      for (const m of made.reverse()) spawnSync('umount', [m]);
    }
  });

  test('a second container joins the first one\'s pid, network, ipc and uts namespaces (CRI pods)', () => {
    const shared = ['pid', 'network', 'ipc', 'uts'];
    const seen = {} as Record<RuntimeName, string[]>;
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      const log: string[] = [];
      const [a, b, c] = ['lx-pod-a', 'lx-pod-b', 'lx-pod-c'].map((n) => sb.track(rt, uniqueId(n)));
      ok(create(rt, a, sb.bundle({ args: ['sleep', '60'], hostname: 'the-pod' }, `pod-${rtName}`).dir));
      ok(start(rt, a));
      const aPid = state(rt, a).pid;
      const join = (s: OciSpec) => {
        for (const n of s.linux!.namespaces!) if (shared.includes(n.type)) n.path = `/proc/${aPid}/ns/${nsEntry(n.type)}`;
        delete s.hostname;
      };
      // The pause container is pid 1; the joiner sees it and itself, and shares its hostname.
      const r = run(rt, ['run', '--bundle', sb.bundle({ args: sh('cat /proc/1/comm; hostname; ps -o comm'), edit: join }, `joiner-${rtName}`).dir, b]);
      // sh execs its last command, so ps replaces it.
      expectOk(r, 'sleep\nthe-pod\nCOMMAND\nsleep\nps\n');
      log.push(r.stdout);

      const cBundle = sb.bundle({ args: ['sleep', '60'], edit: join }, `sidecar-${rtName}`).dir;
      ok(create(rt, c, cBundle));
      ok(start(rt, c));
      const cPid = state(rt, c).pid;
      // Killing the sidecar leaves the pod alone.
      ok(kill(rt, c, 'KILL'));
      log.push(`c ${waitForStatus(rt, c, 'stopped').status} a ${state(rt, a).status}`);
      expect(isAlive(cPid)).toBe(false);
      ok(del(rt, c));
      // Killing the pod's init tears down its pid namespace, and with it the sidecar's init.
      ok(create(rt, c, cBundle));
      ok(start(rt, c));
      const cPid2 = state(rt, c).pid;
      ok(kill(rt, a, 'KILL'));
      log.push(`a ${waitForStatus(rt, a, 'stopped').status} c ${waitForStatus(rt, c, 'stopped').status}`);
      expect(isAlive(cPid2)).toBe(false);
      ok(del(rt, c));
      ok(del(rt, a));
      log.push(`left ${fs.readdirSync(rt.root).filter((d) => d.startsWith('lx-pod')).length}`);
      seen[rtName] = log;
    }
    expect(seen.runc).toEqual(['sleep\nthe-pod\nCOMMAND\nsleep\nps\n', 'c stopped a running', 'a stopped c stopped', 'left 0']);
    expect(seen.ocirun).toEqual(seen.runc);
  });
});

function scratchDirOf(r: RunResult): string {
  // The bundle directory is the argument after --bundle.
  return r.argv[r.argv.indexOf('--bundle') + 1];
}

describe('namespaces: bad input (ocirun; each a clear error naming the JSON path, nothing left)', () => {
  test('a user namespace without mappings', () => {
    expectRejected('lx-bad-nomap', { edit: withNs('user') }, 'linux.uidMappings: required when a new user namespace is created');
  });

  // runc (1.1.5 and later) silently drops mappings when there is no user namespace: its validator's check
  // never sees them. A config asking for a mapping it would not get is refused here instead.
  test('mappings without a user namespace', () => {
    expectRejected('lx-bad-maponly', { edit: (s) => (s.linux!.uidMappings = MAPPING) }, 'linux.uidMappings: set, but linux.namespaces has no "user" entry');
  });

  test('a namespace path that is no namespace file', () => {
    const file = path.join(sb.dir('plain'), 'not-a-namespace');
    fs.writeFileSync(file, '');
    expectRejected(
      'lx-bad-nsfile',
      { edit: (s) => (s.linux!.namespaces!.find((n) => n.type === 'uts')!.path = file) },
      /linux\.namespaces\[\d\]\.path: \S+ is not a namespace file/,
    );
  });

  test('a namespace path of another type', () => {
    // The test process's own network namespace: opened and inspected, never joined.
    const net = `/proc/${process.pid}/ns/net`;
    expectRejected(
      'lx-bad-nstype',
      {
        edit: (s) => {
          s.linux!.namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'uts', path: net }];
        },
      },
      `linux.namespaces[2].path: ${net} is not a uts namespace (it is a net namespace)`,
    );
  });

  test('a missing namespace path', () => {
    const missing = path.join(sb.testDir, 'no-such-ns');
    expectRejected(
      'lx-bad-nsmissing',
      { edit: (s) => (s.linux!.namespaces!.find((n) => n.type === 'ipc')!.path = missing) },
      /linux\.namespaces\[\d\]\.path: /,
      `${missing}: no such file or directory`,
    );
  });

  test('the same namespace type twice (runc: "malformed spec file: duplicated ns")', () => {
    expectRejected('lx-bad-nsdup', { edit: withNs('ipc') }, /linux\.namespaces\[5\]\.type: malformed spec file: duplicated ns "ipc"/);
  });

  test('timeOffsets without a time namespace', () => {
    expectRejected(
      'lx-bad-timens',
      { edit: (s) => (s.linux!.timeOffsets = { monotonic: { secs: 1 } }) },
      'linux.timeOffsets: requires a time namespace (linux.namespaces has no "time" entry)',
    );
  });

  test('timeOffsets for a joined time namespace', () => {
    expectRejected(
      'lx-bad-timejoin',
      {
        edit: (s) => {
          s.linux!.namespaces!.push({ type: 'time', path: `/proc/${process.pid}/ns/time` });
          s.linux!.timeOffsets = { monotonic: { secs: 1 } };
        },
      },
      /linux\.timeOffsets: cannot be set for the joined time namespace linux\.namespaces\[5\]\.path/,
    );
  });

  test('a boottime offset that would put the clock before boot', () => {
    expectRejected(
      'lx-bad-timerange',
      { edit: (s) => { withNs('time')(s); s.linux!.timeOffsets = { boottime: { secs: -1e12 } }; } },
      // ERANGE in Go's words, as every errno the stub reports (stub/errtext.c).
      'linux.timeOffsets: write /proc/self/timens_offsets: numerical result out of range',
    );
  });

  test('hostname and domainname without a uts namespace', () => {
    const noUts = (s: OciSpec) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'));
    expectRejected('lx-bad-hostname', { hostname: 'x', edit: noUts }, 'hostname: requires a uts namespace');
    // runc 1.1.5 silently ignores the domainname; runc 1.2 refuses it like the hostname.
    expectRejected(
      'lx-bad-domainname',
      { edit: (s) => { noUts(s); delete s.hostname; s.domainname = 'example.org'; } },
      'domainname: requires a uts namespace',
    );
  });

  test('mappings that differ from those of the joined user namespace', () => {
    const h = nsHolder(['user']);
    expectRejected(
      'lx-bad-joinmap',
      {
        edit: (s) => {
          s.linux!.namespaces!.push({ type: 'user', path: h.ns('user') });
          s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
          s.linux!.gidMappings = MAPPING;
        },
      },
      'linux.uidMappings: [0 200000 65536] do not match the mappings of the joined user namespace',
      '[0 100000 65536]',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// hostname / domainname

describe('hostname and domainname', () => {
  test('hostname set in a new uts namespace', () => {
    const p = runBoth(sb, 'lx-uts', { hostname: 'lx-host', args: sh('hostname; cat /proc/sys/kernel/hostname') });
    expectOk(p.runc, 'lx-host\nlx-host\n');
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  // runc 1.1.5 ignores domainname (support came with runc 1.2); the spec says to set it, so this is direct.
  test('domainname set in a new uts namespace', () => {
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({ hostname: 'lx-host', edit: (s) => (s.domainname = 'lx.example'), args: ['cat', '/proc/sys/kernel/hostname', '/proc/sys/kernel/domainname'] });
    const r = run(rt, ['run', '--bundle', b.dir, sb.track(rt, uniqueId('lx-domain'))]);
    expectOk(r, /^lx-host\nlx\.example\n$/);
    expect(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')).not.toBe('lx.example\n');
  });

  test('unset: the new namespace keeps the host\'s values', () => {
    const p = runBoth(sb, 'lx-uts-unset', { edit: (s) => delete s.hostname, args: sh('cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname') });
    const host = ['hostname', 'domainname'].map((f) => fs.readFileSync(`/proc/sys/kernel/${f}`, 'utf8')).join('');
    expectOk(p.runc, host);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });
});

// ---------------------------------------------------------------------------------------------
// Devices

const DEVICES = [
  { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/loop0', type: 'b', major: 7, minor: 0, fileMode: 0o640, uid: 1000, gid: 10 },
  { path: '/dev/net/tun', type: 'c', major: 10, minor: 200 },
  // Replaces the default /dev/zero: the config's entry wins.
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o620, uid: 3, gid: 4 },
];
const DEV_SCRIPT = 'ls -lnR /dev; stat -c "%n %F %u %g %a %t:%T" /dev/* /dev/net/*';

function hostNodes(): string {
  return ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/random', '/dev/urandom', '/dev/fuse', '/dev/loop0', '/dev/net/tun']
    .map((p) => {
      const st = fs.statSync(p);
      return `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.rdev}`;
    })
    .join('\n');
}

describe('devices', () => {
  test('mknod with type, numbers, mode and owner; fifo, "u" and nested paths; default devices', () => {
    const devices = [
      ...DEVICES,
      { path: '/dev/myfifo', type: 'p', fileMode: 0o600, uid: 5, gid: 6 },
      { path: '/dev/deep/er/u0', type: 'u', major: 1, minor: 5 },
      { path: '/outside-dev', type: 'c', major: 1, minor: 7, fileMode: 0o751 },
    ];
    const p = runBoth(sb, 'lx-dev', {
      args: sh(`${DEV_SCRIPT} /dev/deep/er/u0 /outside-dev; ls -ln /outside-dev`),
      edit: (s) => (s.linux!.devices = devices),
    });
    expectOk(
      p.runc,
      /^\/dev\/loop0 block special file 1000 10 640 7:0$/m,
      /^\/dev\/zero character special file 3 4 620 1:5$/m,
      /^\/dev\/myfifo fifo 5 6 600 0:0$/m,
      /^crwxr-x--x +1 0 +0 +1, +7 .* \/outside-dev$/m,
      /^\/dev\/null character special file 0 0 666 1:3$/m,
    );
    expect(normaliseLsDates(p.ocirun.stdout)).toBe(normaliseLsDates(p.runc.stdout));
  });

  // runc 1.1.5 chowns after mknod even to the same owner, and chown clears the set-id bits: it makes a
  // 0755 node out of fileMode 04755. The spec asks for the given mode, so this is a direct assertion.
  test('set-id bits of fileMode are kept', () => {
    const rt = sb.runtime('ocirun');
    const b = sb.bundle({
      args: ['ls', '-ln', '/dev/suid', '/dev/sgid'],
      edit: (s) =>
        (s.linux!.devices = [
          { path: '/dev/suid', type: 'c', major: 1, minor: 3, fileMode: 0o4755 },
          { path: '/dev/sgid', type: 'c', major: 1, minor: 3, fileMode: 0o2750, uid: 1000, gid: 1000 },
        ]),
    });
    const r = run(rt, ['run', '--bundle', b.dir, sb.track(rt, uniqueId('lx-dev-suid'))]);
    expectOk(r, /^crwsr-xr-x +1 0 +0 +1, +3 .* \/dev\/suid$/m, /^crwxr-s--- +1 1000 +1000 +1, +3 .* \/dev\/sgid$/m);
  });

  test('in a user namespace, host nodes are bound in the same order and keep their owner and mode', () => {
    const before = hostNodes();
    const p = runBoth(
      sb,
      'lx-dev-userns',
      {
        // Mount point and fs type of every mount below /dev, in mount order.
        args: sh(`${DEV_SCRIPT}; grep -E " /dev/[^ ]+ " /proc/self/mountinfo | sed -E 's/^([^ ]+ ){4}([^ ]+) .* - ([^ ]+) .*/\\2 \\3/'`),
        edit: (s) => {
          withNs('user')(s);
          s.linux!.uidMappings = MAPPING;
          s.linux!.gidMappings = MAPPING;
          s.linux!.devices = DEVICES;
        },
      },
      { prepare: chownRootfs },
    );
    // Bound nodes show the host's modes, owned by the overflow id (host root is unmapped).
    expectOk(p.runc, /^\/dev\/loop0 block special file 65534 65534 600 7:0$/m, /^\/dev\/fuse devtmpfs$/m);
    expect(normaliseLsDates(p.ocirun.stdout)).toBe(normaliseLsDates(p.runc.stdout));
    expect(hostNodes()).toBe(before);
  });

  test('bad devices: unknown type, numbers out of range, the root itself', () => {
    const dev = (d: object) => ({ edit: (s: OciSpec) => (s.linux!.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 3 }, d]) });
    expectRejected('lx-bad-devtype', dev({ path: '/dev/y', type: 'z', major: 1, minor: 3 }), 'linux.devices[1].type: unknown device type "z"');
    // runc 1.1.5 silently makes major 5000 into 904 and minor 2^20 into 0.
    expectRejected('lx-bad-devmajor', dev({ path: '/dev/y', type: 'c', major: 5000, minor: 3 }), 'linux.devices[1].major: must be between 0 and 4095');
    expectRejected('lx-bad-devminor', dev({ path: '/dev/y', type: 'b', major: 8, minor: 1 << 20 }), 'linux.devices[1].minor: must be between 0 and 1048575');
    expectRejected('lx-bad-devneg', dev({ path: '/dev/y', type: 'c', major: -1, minor: 3 }), 'linux.devices[1].major: must be between 0 and 4095');
    expectRejected('lx-bad-devroot', dev({ path: '/dev/..', type: 'c', major: 1, minor: 3 }), 'linux.devices[1].path: must name a file below "/"');
  });

  test('a device path already taken by something else in the rootfs', () => {
    expectRejected(
      'lx-bad-devclash',
      { edit: (s) => (s.linux!.devices = [{ path: '/bin/busybox', type: 'c', major: 1, minor: 3 }]) },
      'linux.devices[0] (/bin/busybox): /bin/busybox exists in the rootfs and is not the requested device',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// netDevices (spec 1.2+, runc 1.3): runc 1.1.5 lacks the field, so every assertion here is direct.

const links: string[] = [];
const netnses: string[] = [];
afterEach(() => {
  for (const l of links.splice(0)) spawnSync('ip', ['link', 'del', l]);
  for (const n of netnses.splice(0)) spawnSync('ip', ['netns', 'del', n]);
});

let linkCount = 0;
/**
 * A virtual interface on the host. dummy is what runc's tests use; this kernel has no dummy driver,
 * so ifb (also virtual, also free to change namespace) stands in when dummy is missing.
 */
function hostLink(): string {
  const name = `lx${process.pid % 100000}n${++linkCount}`;
  let r = spawnSync('ip', ['link', 'add', name, 'type', 'dummy'], { encoding: 'utf8' });
  if (r.status !== 0) r = spawnSync('ip', ['link', 'add', name, 'type', 'ifb'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot create a test interface: ${r.stderr}`);
  links.push(name);
  return name;
}

function ip(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

const onHost = (name: string) => ip('link', 'show', 'dev', name).code === 0;

describe('netDevices', () => {
  test('moved in before user code runs, renamed, up, with its global addresses; never moved back', () => {
    const link = hostLink();
    for (const args of [['addr', 'add', '192.0.2.10/24', 'dev', link], ['addr', 'add', '2001:db8::5/64', 'dev', link], ['addr', 'add', '127.0.0.33/8', 'dev', link], ['link', 'set', link, 'mtu', '1400']]) {
      expect(ip(...args).code, `ip ${args.join(' ')}`).toBe(0);
    }
    const out = sb.dir('out');
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lx-netdev'));
    const b = sb.bundle({
      args: sh('{ ls /sys/class/net; ip -o link show ctr0; ip -o addr show ctr0; } > /out/view.tmp 2>&1; mv /out/view.tmp /out/view; sleep 60'),
      extraMounts: [{ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] }],
      edit: (s) => (s.linux!.netDevices = { [link]: { name: 'ctr0' } }),
    });
    ok(create(rt, id, b.dir));
    // Created, not started: the device has already left the host.
    expect(onHost(link)).toBe(false);
    ok(start(rt, id));
    const view = path.join(out, 'view');
    waitUntil(() => fs.existsSync(view), 'the container to report its interfaces');
    const text = fs.readFileSync(view, 'utf8');
    expect(text).toMatch(/^ctr0\nlo\n/);
    expect(text).toMatch(/^\d+: ctr0: <[^>]*\bUP\b[^>]*> mtu 1400 /m);
    expect(text).toContain('inet 192.0.2.10/24 brd 192.0.2.255 scope global ctr0');
    expect(text).toContain('inet6 2001:db8::5/64 scope global');
    // A host-scoped address belongs to the host's network, as in runc 1.3.
    expect(text).not.toContain('127.0.0.33');
    expect(onHost(link) || onHost('ctr0')).toBe(false);
    ok(kill(rt, id, 'KILL'));
    waitForStatus(rt, id, 'stopped');
    ok(del(rt, id));
    // The namespace owned the device: the kernel destroys a virtual one with it; nothing comes back.
    expect(onHost(link) || onHost('ctr0')).toBe(false);
  });

  test('into a joined network namespace, where it stays after delete (its owner decides)', () => {
    const link = hostLink();
    const ns = `lx${process.pid % 100000}ns`;
    expect(ip('netns', 'add', ns).code).toBe(0);
    netnses.push(ns);
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('lx-netdev-join'));
    const b = sb.bundle({
      args: sh(`ls /sys/class/net; ip -o link show ${link}`),
      edit: (s) => {
        s.linux!.namespaces!.find((n) => n.type === 'network')!.path = `/run/netns/${ns}`;
        s.linux!.netDevices = { [link]: {} };
      },
    });
    const r = run(rt, ['run', '--bundle', b.dir, id]);
    expectOk(r, `lo\n${link}\n`, new RegExp(`^\\d+: ${link}: <[^>]*\\bUP\\b`, 'm'));
    expect(onHost(link)).toBe(false);
    const inNs = ip('netns', 'exec', ns, 'ip', '-o', 'link', 'show');
    expect(inNs.out).toContain(`${link}:`);
    // Someone else's namespace: its loopback is left as it was (down).
    expect(inNs.out).toMatch(/^1: lo: <LOOPBACK>/m);
  });

  test('a missing host interface is named, and nothing moves', () => {
    const link = hostLink();
    expectRejected(
      'lx-bad-netmissing',
      { edit: (s) => (s.linux!.netDevices = { [link]: {}, nosuch0: { name: 'x0' } }) },
      'linux.netDevices.nosuch0: the host has no network interface named "nosuch0"',
    );
    expect(onHost(link)).toBe(true);
  });

  test('no network namespace of its own, or the runtime\'s own joined by path', () => {
    const link = hostLink();
    expectRejected(
      'lx-bad-nonetns',
      { edit: (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); s.linux!.netDevices = { [link]: {} }; } },
      'linux.netDevices: requires a network namespace (linux.namespaces has no "network" entry)',
    );
    expectRejected(
      'lx-bad-hostnetns',
      {
        edit: (s) => {
          s.linux!.namespaces!.find((n) => n.type === 'network')!.path = `/proc/${process.pid}/ns/net`;
          s.linux!.netDevices = { [link]: {} };
        },
      },
      "linux.netDevices: the container's network namespace is the runtime's own",
    );
    expect(onHost(link)).toBe(true);
  });

  test('invalid and clashing names', () => {
    const [l1, l2] = [hostLink(), hostLink()];
    expectRejected('lx-bad-netname', { edit: (s) => (s.linux!.netDevices = { [l1]: { name: 'has space' } }) }, `linux.netDevices.${l1}.name: invalid network interface name "has space"`);
    expectRejected(
      'lx-bad-netclash',
      { edit: (s) => (s.linux!.netDevices = { [l1]: { name: 'same0' }, [l2]: { name: 'same0' } }) },
      `linux.netDevices.${l2}: would be named "same0" in the container, as would linux.netDevices.${l1}`,
    );
    expect(onHost(l1) && onHost(l2)).toBe(true);
  });
});
