// A private podman 4.3 for the end-to-end tests: its own containers.conf, storage.conf, registries.conf, root,
// runroot, tmpdir, locks, events, CNI config dir and runtime state under one temp dir; stop() removes all of it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordCalls, type RuntimeCalls } from './calls';
import { cgroupsOf, killPid, mountsUnder, pidsMentioning } from './containerd';

export interface PodmanResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Host paths podman (as root) writes by default whatever --root says. The configuration below moves all of them
// into our dir except containers/image's blob-info cache, which `podman load` always puts in
// /var/lib/containers/cache for euid 0 (no flag or containers.conf key reaches it in 4.3); stop() removes what
// we created of these and the tests check that nothing else appeared.
export const HOST_PATHS = [
  '/var/lib/containers', '/run/containers', '/run/libpod', '/var/run/libpod', '/dev/shm/libpod_lock',
  '/etc/cni/net.d', '/var/lib/cni',
];

export class Podman {
  readonly dir: string;
  /** Every container runs under this cgroup parent (cgroupfs: <parent>/libpod-<id>, conmon in <parent>/conmon). */
  readonly cgroupParent: string;
  /** The name podman knows the runtime by (containers.conf [engine.runtimes]). */
  readonly runtimeName: string;
  readonly calls: RuntimeCalls;
  private readonly hostPathsBefore: Set<string>;

  /** runtime: the binary under test (dist/ocirun, or runc as the oracle). */
  constructor(readonly runtime: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-pm-'));
    this.cgroupParent = `ocirun-e2e-podman-${process.pid}`;
    this.runtimeName = path.basename(runtime);
    this.hostPathsBefore = new Set(HOST_PATHS.filter((p) => fs.existsSync(p)));
    for (const d of ['root', 'runroot', 'tmp', 'hooks', 'net', 'state']) fs.mkdirSync(path.join(this.dir, d));
    // podman passes no --root to the runtime (runc's /run/runc, ocirun's /run/ocirun), and its --runtime-flag
    // does not reach the exit command's `container cleanup`, so this shim gives every call our own state dir.
    // It sits behind the recording wrapper: the recorded calls are exactly podman's and conmon's.
    const shim = path.join(this.dir, 'runtime-root');
    fs.writeFileSync(shim, `#!/bin/sh\nexec '${runtime}' --root '${this.stateDir}' "$@"\n`, { mode: 0o755 });
    this.calls = recordCalls(path.join(this.dir, 'calls'), shim);
    this.writeConfig();
  }

  get stateDir(): string {
    return path.join(this.dir, 'state');
  }

  private writeConfig(): void {
    const d = this.dir;
    fs.writeFileSync(
      path.join(d, 'storage.conf'),
      ['[storage]', 'driver = "overlay"', `graphroot = "${d}/root"`, `runroot = "${d}/runroot"`, ''].join('\n'),
    );
    fs.writeFileSync(path.join(d, 'registries.conf'), 'unqualified-search-registries = []\n');
    fs.writeFileSync(
      path.join(d, 'containers.conf'),
      [
        '[containers]',
        'netns = "host"',
        'log_driver = "k8s-file"',
        // catatonit for --init (the static one; podman bind-mounts it at /run/podman-init).
        'init_path = "/usr/bin/catatonit"',
        // No rlimits in the spec at all: the container inherits conmon's, under our hard limits. As soon as any
        // ulimit is set (here or by --ulimit), podman 4.3 adds its root defaults for whatever is not
        // (RLIMIT_NOFILE 1048576, RLIMIT_NPROC 4194304), above what root without CAP_SYS_RESOURCE may set.
        'default_ulimits = []',
        '[network]',
        // CNI rather than netavark: netavark's run dir is /run/containers/networks for root, whatever the root.
        // Nothing is configured or invoked: every container uses the host network.
        'network_backend = "cni"',
        `network_config_dir = "${d}/net"`,
        `cni_plugin_dirs = ["${d}/net"]`,
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${d}/events.log"`,
        `tmp_dir = "${d}/tmp"`,
        `static_dir = "${d}/root/libpod"`,
        `volume_path = "${d}/root/volumes"`,
        `image_copy_tmp_dir = "${d}/tmp"`,
        // File locks under tmp_dir instead of /dev/shm/libpod_lock.
        'lock_type = "file"',
        `hooks_dir = ["${d}/hooks"]`,
        `runtime = "${this.runtimeName}"`,
        // As for runc and crun: podman passes --log-format=json --log <file> and reads errors from that file.
        `runtime_supports_json = ["${this.runtimeName}"]`,
        '[engine.runtimes]',
        `${this.runtimeName} = ["${this.calls.bin}"]`,
        '',
      ].join('\n'),
    );
  }

  /** The environment every podman process (and through conmon, its exit command) sees. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONTAINERS_CONF: path.join(this.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(this.dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: path.join(this.dir, 'registries.conf'),
      TMPDIR: path.join(this.dir, 'tmp'),
    };
    delete env.XDG_RUNTIME_DIR;
    delete env.CONTAINER_HOST;
    return env;
  }

  /** Global flags, on top of containers.conf, so that each command line shows where everything goes. */
  globalArgs(): string[] {
    const d = this.dir;
    return [
      '--root', `${d}/root`, '--runroot', `${d}/runroot`, '--tmpdir', `${d}/tmp`,
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay',
      '--runtime', this.runtimeName,
    ];
  }

  podman(args: string[], opts: { timeoutMs?: number } = {}): PodmanResult {
    const r = spawnSync('podman', [...this.globalArgs(), ...args], {
      encoding: 'utf8',
      env: this.env(),
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      input: '',
    });
    return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[spawn] ${r.error.message}` : '') };
  }

  /** `podman run` flags every test container gets: no pulls, host network, our cgroup parent. */
  runFlags(): string[] {
    return ['--pull', 'never', '--network', 'host', '--cgroup-parent', `/${this.cgroupParent}`];
  }

  /** The command line for a shell (script(1) wants one string). */
  shellCommand(args: string[]): string {
    return ['podman', ...this.globalArgs(), ...args].map(shQuote).join(' ');
  }

  eventsLog(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'events.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  /** Everything goes: containers (and their conmon, cleanup processes, mounts), images, cgroups, state, dir. */
  async stop(): Promise<void> {
    this.podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 });
    this.podman(['rmi', '--all', '--force'], { timeoutMs: 60_000 });
    // conmon runs `podman container cleanup` after each exit; let those finish before killing stragglers.
    const deadline = Date.now() + 10_000;
    while (pidsMentioning(this.dir).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of pidsMentioning(this.dir)) killPid(pid);
    for (let round = 0; round < 5 && mountsUnder(this.dir).length; round++) {
      for (const m of mountsUnder(this.dir)) spawnSync('umount', ['-l', m]);
    }
    for (const d of cgroupsOf(this.cgroupParent)) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* busy: reported by the test's own check */
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    for (const p of HOST_PATHS) if (!this.hostPathsBefore.has(p)) fs.rmSync(p, { recursive: true, force: true });
  }

  /** Host paths from HOST_PATHS that exist now but did not when we started. */
  newHostPaths(): string[] {
    return HOST_PATHS.filter((p) => fs.existsSync(p) && !this.hostPathsBefore.has(p));
  }
}

function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

