// End to end through Debian's dockerd 20.10 with `--add-runtime ocirun=dist/ocirun --default-runtime ocirun`:
// dockerd -> containerd -> containerd-shim-runc-v2 -> ocirun, with docker's own spec: its default seccomp profile,
// libnetwork's setkey prestart hook (which calls back into dockerd), cgroupfs resources and `update`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recordCalls, type RuntimeCalls } from './calls';
import { cgroupsOf, mountsUnder, type CtrResult } from './containerd';
import { DOCKER, DOCKERD, Dockerd, dockerWithTty, RUNTIME_NAME } from './docker';
import { buildBusyboxImage, IMAGE_NAME } from './image';

const REPO = path.resolve(__dirname, '..', '..');
const OCIRUN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO, 'dist', 'ocirun'));
// E2E_RUNTIME=/usr/sbin/runc runs the same suite against runc (the oracle), every test included.
const RUNTIME = process.env.E2E_RUNTIME || OCIRUN;
const HAVE =
  [DOCKER, DOCKERD].every((b) => fs.existsSync(b)) &&
  ['containerd', 'containerd-shim-runc-v2'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);

let dk: Dockerd;
// Every call the shim (and dockerd's `--version` probe) makes goes through a logging wrapper (test/e2e/calls.ts).
let calls: RuntimeCalls;
let n = 0;
const newName = () => `d${++n}`;

function explain(r: CtrResult, name?: string): string {
  let runtimeLog = '';
  if (name) {
    const id = dk.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
    if (id) runtimeLog = dk.runtimeLog(id);
  }
  return `exit=${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- runtime log\n${runtimeLog}\n--- dockerd\n${dk.dockerdLog()}`;
}

function ok(r: CtrResult, name?: string): CtrResult {
  if (r.code !== 0) throw new Error(`docker failed\n${explain(r, name)}`);
  return r;
}

/** `docker run` with what every test needs: no network but the container's own loopback (there is no bridge). */
const run = (...args: string[]) => ['run', '--network', 'none', ...args];

function inspect(name: string, format: string): string {
  return ok(dk.docker(['inspect', '-f', format, name]), name).stdout.trim();
}

/** A detached container running `cmd`, removed however the test ends. */
async function withContainer(cmd: string[], body: (name: string, id: string) => Promise<void> | void, opts: string[] = []): Promise<void> {
  const name = newName();
  const id = ok(dk.docker([...run('-d', '--name', name, ...opts), IMAGE_NAME, ...cmd]), name).stdout.trim();
  try {
    await body(name, id);
  } finally {
    dk.docker(['rm', '-f', name]);
  }
}

/** Host path of one of the container's v1 cgroup files (docker's cgroupfs layout: <parent>/<id>). */
function cgroupFile(id: string, controller: string, file: string): string {
  return path.join('/sys/fs/cgroup', controller, dk.cgroupParent, id, file);
}

describe.skipIf(!HAVE)('dockerd 20.10 with --add-runtime ocirun', () => {
  beforeAll(async () => {
    if (!fs.existsSync(OCIRUN)) throw new Error(`${OCIRUN} does not exist: build it first`);
    dk = new Dockerd();
    calls = recordCalls(path.join(dk.dir, 'calls'), RUNTIME);
    await dk.start(calls.bin);
    const image = buildBusyboxImage(path.join(dk.dir, 'image'));
    ok(dk.docker(['load', '-i', image], { timeoutMs: 60_000 }));
  }, 120_000);

  afterAll(async () => {
    if (!dk) return;
    const dir = dk.dir;
    const ns = dk.namespace;
    calls?.save('docker');
    const swept = await dk.stop();
    // Nothing may outlive the suite: no process left in our cgroups once dockerd and containerd are gone, no mounts
    // under our dir (overlay rootfs, netns bind mounts, shm), no cgroup under our parent, no dockerd/containerd/shim,
    // no host dir of dockerd's.
    expect(swept).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
    expect(cgroupsOf(ns)).toEqual([]);
    const left = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
    expect(dk.leftoverHostDirs()).toEqual([]);
  }, 120_000);

  test('docker info: dockerd runs the runtime under test by default and parses its --version', () => {
    const commit = spawnSync(RUNTIME, ['--version'], { encoding: 'utf8' }).stdout.match(/^commit: (.+)$/m)?.[1];
    expect(commit).toBeTruthy();
    const info = ok(dk.docker(['info', '-f', '{{.DefaultRuntime}} {{.RuncCommit.ID}}'])).stdout.trim();
    expect(info).toBe(`${RUNTIME_NAME} ${commit}`);
  });

  test('docker run --rm: output, stderr and exit status come through; the container is gone', () => {
    const name = newName();
    const r = dk.docker([...run('--rm', '--name', name), IMAGE_NAME, 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    expect(r.code, explain(r)).toBe(3);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('oops\n');
    expect(dk.docker(['ps', '-aq', '--filter', `name=${name}`]).stdout).toBe('');
  });

  test('docker run --rm: pid 1 with the image environment, in a cgroup under our parent', () => {
    const r = ok(dk.docker([...run('--rm'), IMAGE_NAME, 'sh', '-c', 'echo $$ $PATH; id -u; grep :memory: /proc/self/cgroup']));
    const [first, uid, cgroup] = r.stdout.split('\n');
    expect(first).toBe('1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(uid).toBe('0');
    expect(cgroup).toMatch(new RegExp(`^\\d+:memory:${dk.cgroupParent}/[0-9a-f]{64}$`));
  });

  test('docker run -i: stdin reaches the container', () => {
    const r = ok(dk.docker([...run('--rm', '-i'), IMAGE_NAME, 'sh', '-c', 'tr a-z A-Z; exit 0'], { input: 'piped in\n' }));
    expect(r.stdout).toBe('PIPED IN\n');
  });

  test('docker run -t: a real pty', () => {
    const r = dockerWithTty(dk, [...run('--rm', '-t'), IMAGE_NAME, 'sh', '-c', 'tty; exit 4']);
    expect(r.code, explain(r)).toBe(4);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
  });

  test("docker's spec: a libnetwork-setkey prestart hook that ran, and the default seccomp profile in force", async () => {
    await withContainer(['sleep', '1000'], (name, id) => {
      const config = JSON.parse(fs.readFileSync(path.join(dk.bundle(id), 'config.json'), 'utf8'));
      // The hook is dockerd itself (/proc/<dockerd pid>/exe), run by the runtime in the host's namespaces.
      const hooks = config.hooks?.prestart ?? [];
      expect(hooks).toHaveLength(1);
      expect(hooks[0].path).toMatch(/^\/proc\/\d+\/exe$/);
      expect(hooks[0].args.slice(0, 3)).toEqual(['libnetwork-setkey', `-exec-root=${dk.execRoot}`, id]);
      expect(config.linux.seccomp.defaultAction).toBe('SCMP_ACT_ERRNO');

      // The hook tells dockerd the container's pid; dockerd bind-mounts that netns at the sandbox key. The same
      // namespace on both sides proves the hook ran with the right state.
      const sandboxKey = inspect(name, '{{.NetworkSettings.SandboxKey}}');
      expect(sandboxKey.startsWith(path.join(dk.execRoot, 'netns') + '/'), sandboxKey).toBe(true);
      const inside = ok(dk.docker(['exec', name, 'readlink', '/proc/1/ns/net']), name).stdout.trim();
      expect(inside).toBe(`net:[${fs.statSync(sandboxKey).ino}]`);
      // --network none still means a private netns: loopback only.
      expect(ok(dk.docker(['exec', name, 'ls', '/sys/class/net']), name).stdout.trim()).toBe('lo');

      // A filter on pid 1 and on exec'd processes, and it is docker's: unshare is reserved to CAP_SYS_ADMIN holders
      // (compare the unconfined test below, where the same call succeeds).
      const status = ok(dk.docker(['exec', name, 'sh', '-c', 'grep ^Seccomp: /proc/1/status /proc/self/status']), name).stdout;
      expect(status).toMatch(/^\/proc\/1\/status:Seccomp:\s+2$/m);
      expect(status).toMatch(/^\/proc\/self\/status:Seccomp:\s+2$/m);
      const denied = dk.docker(['exec', name, 'unshare', '-U', 'true']);
      expect(denied.code, explain(denied, name)).not.toBe(0);
      expect(denied.stderr).toContain('Operation not permitted');
    });
  });

  test('--security-opt seccomp=unconfined: no filter, and the call the profile denies works', () => {
    const r = ok(
      dk.docker([...run('--rm', '--security-opt', 'seccomp=unconfined'), IMAGE_NAME, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; unshare -U true && echo unshared']),
    );
    expect(r.stdout).toMatch(/^Seccomp:\s+0\nunshared\n$/);
  });

  test('docker exec: output, exit status, user, env and cwd of a process beside pid 1', async () => {
    await withContainer(['sleep', '1000'], (name) => {
      const r = dk.docker(['exec', name, 'sh', '-c', 'echo as $$ beside $(cat /proc/1/comm); exit 7']);
      expect(r.code, explain(r, name)).toBe(7);
      expect(r.stdout).toMatch(/^as \d+ beside sleep\n$/);
      expect(r.stdout).not.toBe('as 1 beside sleep\n');
      const u = ok(dk.docker(['exec', '-u', '65534:65534', '-e', 'FOO=bar', '-w', '/tmp', name, 'sh', '-c', 'echo $(id -u):$(id -g) $FOO $PWD']), name);
      expect(u.stdout).toBe('65534:65534 bar /tmp\n');
    });
  });

  test("docker exec -t: a pty for the exec'd process", async () => {
    await withContainer(['sleep', '1000'], (name) => {
      const r = dockerWithTty(dk, ['exec', '-t', name, 'sh', '-c', 'tty; exit 6']);
      expect(r.code, explain(r, name)).toBe(6);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    });
  });

  test('docker stop: SIGTERM reaches pid 1, whose exit status docker records', async () => {
    await withContainer(['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done'], (name) => {
      // A long grace period: exit code 42 (not 137) shows the TERM trap ran rather than docker's fallback SIGKILL.
      ok(dk.docker(['stop', '-t', '30', name], { timeoutMs: 60_000 }), name);
      expect(inspect(name, '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}')).toBe('exited 42 false');
    });
  });

  test('docker top: the container processes with their host pids', async () => {
    await withContainer(['sh', '-c', 'sleep 1000 & wait'], (name) => {
      const pid = inspect(name, '{{.State.Pid}}');
      const lines = ok(dk.docker(['top', name, '-o', 'pid,args']), name).stdout.trim().split('\n').slice(1);
      const procs = lines.map((l) => l.trim().split(/\s+/, 2) as [string, string]);
      expect(procs.map(([p]) => p)).toContain(pid);
      expect(lines.some((l) => /\bsleep 1000$/.test(l)), lines.join('\n')).toBe(true);
      expect(lines).toHaveLength(2);
    });
  });

  test('docker pause / unpause: the freezer state follows', async () => {
    await withContainer(['sleep', '1000'], (name, id) => {
      ok(dk.docker(['pause', name]), name);
      expect(inspect(name, '{{.State.Status}}')).toBe('paused');
      expect(fs.readFileSync(cgroupFile(id, 'freezer', 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
      ok(dk.docker(['unpause', name]), name);
      expect(inspect(name, '{{.State.Status}}')).toBe('running');
      expect(fs.readFileSync(cgroupFile(id, 'freezer', 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    });
  });

  test('docker update: memory, swap, cpu shares and pids limit reach the cgroup, seen from inside and outside', async () => {
    await withContainer(['sleep', '1000'], (name, id) => {
      ok(dk.docker(['update', '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--pids-limit', '50', name]), name);
      const want = ['67108864', '134217728', '512', '50'];
      const files: [string, string][] = [
        ['memory', 'memory.limit_in_bytes'],
        ['memory', 'memory.memsw.limit_in_bytes'],
        ['cpu', 'cpu.shares'],
        ['pids', 'pids.max'],
      ];
      expect(files.map(([c, f]) => fs.readFileSync(cgroupFile(id, c, f), 'utf8').trim())).toEqual(want);
      // Docker mounts the container's own cgroups at /sys/fs/cgroup/<controller> (cgroupns host on v1).
      const inside = ok(dk.docker(['exec', name, 'cat', ...files.map(([c, f]) => `/sys/fs/cgroup/${c}/${f}`)]), name);
      expect(inside.stdout.trim().split('\n')).toEqual(want);
      expect(inspect(name, '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}')).toBe('67108864 512 50');
    });
  });
});
