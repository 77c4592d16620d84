// Differential tests: the same bundle run under runc (the oracle) and under ocirun,
// comparing what the container observes after normalising run-specific values.
import { beforeAll, describe, expect, test } from 'vitest';
import { expectRan, runBoth, RUNTIMES } from './helpers/differential';
import { OCIRUN_BIN, RUNC_BIN, uniqueId, requireBinaries, sh } from './helpers/env';
import { jsonShape, normaliseLsDates, normaliseMountinfo } from './helpers/normalise';
import {
  create,
  del,
  kill,
  ok,
  start,
  state,
  waitForStatus,
  type ContainerState,
  type RuntimeName,
} from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

describe('differential: ocirun vs runc', () => {
  test('hostname', () => {
    const p = runBoth(sb, 'diff-hostname', { hostname: 'ocirun-it', args: sh('hostname; cat /proc/sys/kernel/hostname') });
    expectRan(p, ['ocirun-it\nocirun-it\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('id as root', () => {
    const p = runBoth(sb, 'diff-id-root', { args: ['id'] });
    expectRan(p, ['uid=0(root) gid=0(root)']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('id as uid 1000 with additional gids', () => {
    const p = runBoth(sb, 'diff-id-user', {
      args: ['id'],
      user: { uid: 1000, gid: 1000, additionalGids: [10, 65534] },
    });
    expectRan(p, ['uid=1000(user) gid=1000(user)']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('capabilities, no_new_privs and seccomp lines of /proc/self/status', () => {
    const p = runBoth(sb, 'diff-caps', {
      args: sh('grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status'),
    });
    expectRan(p, [/^CapEff:\t[0-9a-f]{16}$/m, /^CapBnd:/m, /^CapAmb:/m, /^NoNewPrivs:\t1$/m, /^Seccomp:\t0$/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('capabilities when ambient and inheritable sets are given', () => {
    // The default spec has ambient caps but no inheritable set, so CapAmb stays 0;
    // giving both exercises the ambient-raising path too.
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const p = runBoth(sb, 'diff-caps-amb', {
      args: sh('grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status'),
      edit: (s) => {
        s.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
        s.process.noNewPrivileges = false;
      },
    });
    expectRan(p, [/^CapAmb:\t0000000000000421$/m, /^NoNewPrivs:\t0$/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('mount table: points, options, fs types, sources, super options', () => {
    const p = runBoth(sb, 'diff-mounts', { args: ['cat', '/proc/self/mountinfo'] });
    expectRan(p, [' /proc ', ' /dev/pts ', ' /sys/fs/cgroup ']);
    const runc = normaliseMountinfo(p.runc.stdout);
    const oci = normaliseMountinfo(p.ocirun.stdout);
    // Anchors on the normalised form, so a normaliser bug cannot make both sides empty.
    expect(runc.some((l) => l.startsWith('/proc ') && l.includes(' proc proc '))).toBe(true);
    expect(runc.some((l) => l.startsWith('/ ro,'))).toBe(true);
    expect(oci).toEqual(runc);
  });

  test('mount table with a cgroup namespace: real cgroup mounts, named as runc names them', () => {
    const p = runBoth(sb, 'diff-mounts-cgns', {
      args: ['cat', '/proc/self/mountinfo'],
      edit: (s) => void s.linux!.namespaces!.push({ type: 'cgroup' }),
    });
    expectRan(p, [' /sys/fs/cgroup ']);
    const runc = normaliseMountinfo(p.runc.stdout);
    const oci = normaliseMountinfo(p.ocirun.stdout);
    expect(runc.some((l) => / cgroup cgroup /.test(l))).toBe(true);
    expect(oci).toEqual(runc);
  });

  test('ls -ln /dev: names, types, modes, owners, device numbers', () => {
    const p = runBoth(sb, 'diff-dev', { args: ['ls', '-ln', '/dev'] });
    expectRan(p, [/^crw-rw-rw- +1 0 +0 +1, +3 .* null$/m, / ptmx -> pts\/ptmx$/m]);
    expect(normaliseLsDates(p.ocirun.stdout)).toBe(normaliseLsDates(p.runc.stdout));
  });

  test('the process is pid 1', () => {
    const p = runBoth(sb, 'diff-pid1', { args: sh('echo $$') });
    expectRan(p, ['1\n']);
    expect(p.ocirun.stdout).toBe('1\n');
    expect(p.runc.stdout).toBe('1\n');
  });

  test('exit code of the container process is the exit code of run', () => {
    const p = runBoth(sb, 'diff-exit', { args: sh('echo ran; exit 7') });
    expectRan(p, ['ran\n'], 7);
  });

  test('read-only rootfs', () => {
    const p = runBoth(sb, 'diff-ro', {
      readonly: true,
      args: sh('touch /probe 2>&1; echo "touch=$?"; grep -c " / ro," /proc/self/mountinfo'),
    });
    expectRan(p, ['Read-only file system', 'touch=1']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('writable rootfs', () => {
    const p = runBoth(sb, 'diff-rw', {
      readonly: false,
      args: sh('touch /probe 2>&1; echo "touch=$?"; grep -c " / rw," /proc/self/mountinfo'),
    });
    expectRan(p, ['touch=0\n1\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('rlimits in /proc/self/limits', () => {
    const p = runBoth(sb, 'diff-limits', {
      args: ['cat', '/proc/self/limits'],
      edit: (s) => {
        s.process.rlimits = [
          { type: 'RLIMIT_NOFILE', hard: 2048, soft: 512 },
          { type: 'RLIMIT_CORE', hard: 4096, soft: 1024 },
        ];
      },
    });
    expectRan(p, [/^Max open files +512 +2048 +files/m, /^Max core file size +1024 +4096 +bytes/m]);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('cwd and environment', () => {
    const p = runBoth(sb, 'diff-env', {
      cwd: '/tmp',
      env: ['PATH=/bin', 'FOO=bar baz', 'EMPTY=', 'TERM=xterm'],
      args: sh('pwd; env | sort'),
    });
    expectRan(p, ['/tmp\n', 'FOO=bar baz\n', 'EMPTY=\n', 'PATH=/bin\n']);
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('state JSON through created, running and stopped', () => {
    const id = uniqueId('diff-state');
    const seen: Record<RuntimeName, ContainerState[]> = { runc: [], ocirun: [] };
    for (const rtName of RUNTIMES) {
      const rt = sb.runtime(rtName);
      const b = sb.bundle({ args: ['sleep', '60'], annotations: { 'org.example.key': 'value' } }, `bundle-${rtName}`);
      sb.track(rt, id);
      ok(create(rt, id, b.dir));
      const created = state(rt, id);
      ok(start(rt, id));
      const running = state(rt, id);
      ok(kill(rt, id, 'KILL'));
      const stopped = waitForStatus(rt, id, 'stopped');
      ok(del(rt, id));
      seen[rtName] = [created, running, stopped];

      expect(created.status).toBe('created');
      expect(running.status).toBe('running');
      expect(stopped.status).toBe('stopped');
      for (const s of seen[rtName]) {
        expect(s.id).toBe(id);
        expect(s.bundle).toBe(b.dir);
        expect(s.rootfs).toBe(b.rootfs);
        expect(Number.isNaN(Date.parse(s.created))).toBe(false);
        expect(s.annotations).toEqual({ 'org.example.key': 'value' });
      }
      expect(created.pid).toBeGreaterThan(0);
      expect(running.pid).toBe(created.pid);
      // runc reports pid 0 once the init is gone.
      expect(stopped.pid).toBe(0);
    }
    for (let i = 0; i < 3; i += 1) {
      const r = seen.runc[i] as ContainerState;
      const o = seen.ocirun[i] as ContainerState;
      expect(jsonShape(o), `state #${i} shape`).toEqual(jsonShape(r));
      expect(o.owner).toBe(r.owner);
    }
  });
});
