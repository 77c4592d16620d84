// linux.seccomp end to end: hostile profiles, the Seccomp mode the process sees, and containers-common's
// default profile under both runtimes (the same probes denied with the same errno).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectRan, runBoth, runOne } from './helpers/differential';
import { uniqueId } from './helpers/env';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, sh } from './helpers/env';
import { explain, ok, run } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';
import type { OciSpec } from './helpers/bundle';
import type { LinuxSeccomp } from '../../src/oci/spec';
import { PODMAN_PROFILE as CONTAINERS_SECCOMP, podmanSeccomp } from './helpers/podman-seccomp';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

const withSeccomp = (s: LinuxSeccomp) => (spec: OciSpec) => {
  (spec.linux as Record<string, unknown>).seccomp = s;
};
const allowBut = (syscalls: LinuxSeccomp['syscalls']): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls,
});

// runc 1.1.5 cannot run the first two itself: its Go init still writes to its sync pipe (and its runtime
// calls getpid) after loading the filter, so `run` fails or hangs. ocirun loads the filter right before
// execve (no_new_privs is on in these bundles), so only the container's process meets it.
describe('seccomp', () => {
  test('denying write with EPERM: the echo fails', () => {
    const r = runOne(sb, 'ocirun', uniqueId('sc-write'), {
      args: sh('echo hello || exit 7'),
      edit: withSeccomp(allowBut([{ names: ['write', 'writev'], action: 'SCMP_ACT_ERRNO' }])),
    });
    expect(r.code, explain(r)).toBe(7);
    expect(r.stdout).toBe('');
  });

  test('killing on getpid: the process dies of SIGSYS', () => {
    const r = runOne(sb, 'ocirun', uniqueId('sc-getpid'), {
      args: sh('echo $$; echo not reached'),
      edit: withSeccomp(allowBut([{ names: ['getpid'], action: 'SCMP_ACT_KILL' }])),
    });
    expect(r.code, explain(r)).toBe(128 + 31);
    expect(r.stdout).toBe('');
  });

  test('MASKED_EQ on an argument: personality(PER_LINUX32) denied, personality(PER_LINUX) allowed', () => {
    const p = runBoth(sb, 'sc-masked', {
      args: sh('linux64 echo linux64 ok; linux32 echo linux32 ok 2>&1; echo rc=$?'),
      edit: withSeccomp(
        allowBut([{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 0xff, valueTwo: 8 }] }]),
      ),
    });
    expectRan(p, ['linux64 ok', /Permission denied/, 'rc=1']);
    expect(p.ocirun.stdout).not.toContain('linux32 ok');
    expect(p.ocirun.stdout).toBe(p.runc.stdout);
  });

  test('exec runs under the container\'s profile, as runc does', () => {
    const seen: Record<string, string> = {};
    for (const name of ['runc', 'ocirun'] as const) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`sc-exec-${name}`));
      const b = sb.bundle({ args: ['sleep', '60'], edit: withSeccomp(allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }])) }, `bundle-${name}`);
      ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
      const r = run(rt, ['exec', id, 'sh', '-c', 'mkdir /tmp/x 2>&1; echo rc=$?; grep ^Seccomp: /proc/self/status']);
      seen[name] = r.stdout;
      ok(run(rt, ['delete', '-f', id]));
    }
    expect(seen.ocirun).toMatch(/Permission denied[\s\S]*rc=1[\s\S]*Seccomp:\t2/);
    expect(seen.ocirun).toBe(seen.runc);
  });

  test('the process runs in seccomp mode 2, with and without no_new_privs', () => {
    for (const nnp of [true, false]) {
      const p = runBoth(sb, `sc-mode-${nnp}`, {
        args: sh('grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'),
        edit: (spec) => {
          withSeccomp(allowBut([{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }]))(spec);
          spec.process.noNewPrivileges = nnp;
        },
      });
      expectRan(p, [/^Seccomp:\t2$/m, `NoNewPrivs:\t${nnp ? 1 : 0}`]);
      expect(p.ocirun.stdout).toBe(p.runc.stdout);
    }
  });

  test.skipIf(!existsSync(CONTAINERS_SECCOMP))("containers-common's default profile: the same probes fail with the same errno", () => {
    const probes = [
      'unshare -n true',
      'unshare -m true',
      'unshare -U true',
      'mount -t tmpfs none /mnt',
      'linux32 true',
      'swapon /dev/null',
      'chroot / true',
      'nsenter -t 1 -n true',
      'ionice -c 1 -p $$',
      'hostname foo',
    ];
    const script = probes.map((c) => `${c} 2>&1; echo "${c.split(' ')[0]} rc=$?"`).join('; ');
    for (const caps of [undefined, ['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT', 'CAP_SYS_NICE']]) {
      const p = runBoth(sb, `sc-podman-${caps ? 'caps' : 'default'}`, {
        args: sh(script),
        edit: (spec) => {
          const c = spec.process.capabilities as Record<string, string[]>;
          if (caps) for (const set of ['bounding', 'effective', 'permitted']) c[set] = [...new Set([...c[set], ...caps])];
          withSeccomp(podmanSeccomp(CONTAINERS_SECCOMP, { caps: c.bounding }))(spec);
        },
      });
      // With CAP_SYS_ADMIN only the profile itself denies swapon (it is in its ERRNO list).
      expectRan(p, ['unshare rc=', 'hostname rc=', 'swapon: /dev/null: Operation not permitted']);
      expect(p.ocirun.stdout).toBe(p.runc.stdout);
    }
  });

  // A notify agent on listenerPath: accepts `count` connections, each one's fd and state JSON (SCM_RIGHTS), then
  // NOTIF_RECV/NOTIF_SEND (answering EACCES) until that fd closes; writes what it saw once all are done.
  async function notifyAgent(count: number) {
    const dir = sb.dir('agent');
    const sock = path.join(dir, 'agent.sock');
    const log = path.join(dir, 'agent.json');
    const agent = path.join(dir, 'agent.py');
    writeFileSync(agent, `
import array, fcntl, json, socket, struct, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
out = []
lock = threading.Lock()
def serve(c):
    msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
    fds = array.array('i')
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % 4])
    seen = []
    while True:
        buf = bytearray(80)
        try:
            fcntl.ioctl(fds[0], 0xc0502100, buf)
        except OSError:
            break
        nid, pid, flags, nr = struct.unpack_from('=QIIi', buf)
        seen.append(nr)
        fcntl.ioctl(fds[0], 0xc0182101, bytearray(struct.pack('=QqiI', nid, 0, -13, 0)))
    with lock:
        out.append({'state': json.loads(msg), 'nfds': len(fds), 'seen': seen})
threads = []
for _ in range(int(sys.argv[3])):
    c, _ = s.accept()
    t = threading.Thread(target=serve, args=(c,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
json.dump(out, open(sys.argv[2], 'w'))
`);
    const child = spawn('python3', [agent, sock, log, String(count)], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    return {
      sock,
      kill: () => child.kill('SIGKILL'),
      seen: async () => {
        expect(await exited).toBe(0);
        return JSON.parse(readFileSync(log, 'utf8')) as { state: Record<string, unknown> & { state: Record<string, unknown> }; nfds: number; seen: number[] }[];
      },
    };
  }

  const notifyMkdir = (sock: string) =>
    withSeccomp({ ...allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: sock, listenerMetadata: 'meta-42' });

  test('SCMP_ACT_NOTIFY: an agent on listenerPath gets the fd and the state, and answers mkdir with EACCES', async () => {
    const agent = await notifyAgent(1);
    try {
      const r = runOne(sb, 'ocirun', uniqueId('sc-notify'), { args: sh('mkdir /tmp/x 2>&1; echo rc=$?'), edit: notifyMkdir(agent.sock) });
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toMatch(/Permission denied/);
      expect(r.stdout).toContain('rc=1');
      const [got] = await agent.seen();
      expect(got.nfds).toBe(1);
      expect(got.seen.length).toBeGreaterThan(0);
      expect(got.state).toMatchObject({ fds: ['seccompFd'], metadata: 'meta-42', state: { status: 'creating' } });
      expect(got.state.pid).toBeGreaterThan(1);
    } finally {
      agent.kill();
    }
  });

  test('SCMP_ACT_NOTIFY for exec: its own listener fd, with a running state that names no init pid', async () => {
    const agent = await notifyAgent(2);
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('sc-notify-exec'));
    const b = sb.bundle({ args: ['sleep', '1000'], edit: notifyMkdir(agent.sock) });
    try {
      ok(run(rt, ['run', '-d', '--bundle', b.dir, id]));
      const pidFile = path.join(sb.dir('pid'), 'exec.pid');
      const r = run(rt, ['exec', '--pid-file', pidFile, id, ...sh('mkdir /tmp/y 2>&1; echo rc=$?')]);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toMatch(/Permission denied/);
      expect(r.stdout).toContain('rc=1');
      const execPid = Number(readFileSync(pidFile, 'utf8'));
      ok(run(rt, ['delete', '-f', id]));
      const seen = await agent.seen();
      expect(seen.map((s) => s.state.state.status).sort()).toEqual(['creating', 'running']);
      const x = seen.find((s) => s.state.state.status === 'running')!;
      expect(x.nfds).toBe(1);
      expect(x.seen.length).toBeGreaterThan(0);
      expect(x.state).toMatchObject({ fds: ['seccompFd'], metadata: 'meta-42', pid: execPid, state: { id, bundle: b.dir } });
      expect(x.state.state.pid).toBeUndefined();
    } finally {
      agent.kill();
    }
  });
});
