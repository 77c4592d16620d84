// A private containerd for the end-to-end tests: its own root, state and socket under a temp dir, no CRI plugin
// (cri/containerd.ts adds it), a namespace of its own; stop() kills it, every shim and container it started,
// and removes their mounts and cgroups.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface CtrResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Containerd {
  readonly dir: string;
  readonly sock: string;
  readonly namespace = `ocirun-e2e-${process.pid}`;
  private proc?: ChildProcess;

  constructor() {
    // Short: the socket path must fit in sun_path, and so must the shim's under state.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-e2e-'));
    this.sock = path.join(this.dir, 'c.sock');
  }

  get root(): string {
    return path.join(this.dir, 'root');
  }

  get state(): string {
    return path.join(this.dir, 'state');
  }

  /** The runtime root the runc shim hands the runtime (--root) for our namespace: outside our dir, shim's choice. */
  get runtimeRoot(): string {
    return path.join('/run/containerd/runc', this.namespace);
  }

  get logFile(): string {
    return path.join(this.dir, 'containerd.log');
  }

  /** Plugins switched off; a subclass that wants CRI drops it from this list. */
  protected disabledPlugins(): string[] {
    // Only what ctr needs: no CRI (slow to start, wants CNI), no tracing, no snapshotters that probe devices.
    return [
      'io.containerd.grpc.v1.cri',
      'io.containerd.internal.v1.tracing',
      'io.containerd.snapshotter.v1.btrfs',
      'io.containerd.snapshotter.v1.zfs',
      'io.containerd.snapshotter.v1.devmapper',
      'io.containerd.snapshotter.v1.aufs',
    ];
  }

  /** Extra TOML appended to the config (plugin tables). */
  protected extraConfig(): string[] {
    return [];
  }

  async start(): Promise<void> {
    const config = path.join(this.dir, 'config.toml');
    fs.writeFileSync(
      config,
      [
        'version = 2',
        `root = "${this.root}"`,
        `state = "${this.state}"`,
        `disabled_plugins = ${JSON.stringify(this.disabledPlugins())}`,
        '[grpc]',
        `  address = "${this.sock}"`,
        '[ttrpc]',
        `  address = "${this.sock}.ttrpc"`,
        '[debug]',
        '  address = ""',
        '  level = "debug"',
        '[metrics]',
        '  address = ""',
        // The opt plugin would otherwise create /opt/containerd on the host.
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${path.join(this.dir, 'opt')}"`,
        ...this.extraConfig(),
        '',
      ].join('\n'),
    );
    const log = fs.openSync(this.logFile, 'w');
    this.proc = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(this.sock) || this.ctr(['version']).code !== 0) {
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`containerd did not start:\n${fs.readFileSync(this.logFile, 'utf8').slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  ctr(args: string[], opts: { timeoutMs?: number; input?: string } = {}): CtrResult {
    const r = spawnSync('ctr', ['-a', this.sock, '-n', this.namespace, ...args], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      input: opts.input ?? '',
    });
    return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[spawn] ${r.error.message}` : '') };
  }

  /** The runtime's log the shim keeps for a task (runc's --log, JSON lines), for failure messages. */
  shimLog(id: string): string {
    const f = path.join(this.state, 'io.containerd.runtime.v2.task', this.namespace, id, 'log.json');
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '(no runtime log)';
    }
  }

  containerdLog(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-60).join('\n');
    } catch {
      return '';
    }
  }

  /** Everything we started goes: tasks, shims, containerd, mounts under our dir, our namespace's cgroups. */
  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      for (const line of this.ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        this.ctr(['task', 'kill', '-s', 'SIGKILL', line]);
        this.ctr(['task', 'delete', '-f', line]);
      }
      for (const line of this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['container', 'delete', line]);
    }
    // Shims outlive containerd by design: find them (and anything else) by our socket path in their command line.
    for (const pid of pidsMentioning(this.dir)) killPid(pid);
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc!.once('exit', r));
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    for (const pid of pidsMentioning(this.dir)) killPid(pid);
    unmountUnder(this.dir);
    removeCgroups(this.namespace);
    // The shim creates it and nobody removes it; empty once every container is deleted (rmdir fails otherwise).
    try {
      fs.rmdirSync(this.runtimeRoot);
    } catch {
      /* absent, or holds state: the suite checks it is empty before stop() */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function pidsMentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) out.push(pid);
    } catch {
      /* gone */
    }
  }
  return out;
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Mount points under dir from our mount table, deepest first (overlay snapshots, rootfs mounts, shm). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const left = mountsUnder(dir);
    if (!left.length) return;
    for (const m of left) spawnSync('umount', ['-l', m]);
  }
}

/** ctr's containers live in /<namespace>/<id> in every hierarchy; remove that subtree, deepest first. */
export function cgroupsOf(namespace: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    found.push(d);
  };
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', h, namespace);
    if (fs.existsSync(top)) walk(top);
  }
  if (fs.existsSync(path.join('/sys/fs/cgroup', namespace))) walk(path.join('/sys/fs/cgroup', namespace));
  return [...new Set(found)];
}

function removeCgroups(namespace: string): void {
  for (const d of cgroupsOf(namespace)) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* busy or gone: reported by the test's own check */
    }
  }
}
