// A private dockerd 20.10 for the end-to-end tests, driving a private containerd (test/e2e/containerd.ts) the way
// Debian's docker.service drives the system one; owns dockerd's flags, the docker client calls, and a clean stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupsOf, Containerd, type CtrResult } from './containerd';

export const DOCKER = '/usr/bin/docker'; // /usr/local/bin/docker is an unrelated newer client earlier in PATH
export const DOCKERD = '/usr/sbin/dockerd';
export const RUNTIME_NAME = 'ocirun';

// dockerd 20.10 creates these whatever its roots are: the plugin exec root is hard-coded, and /etc/docker is
// created on the way to the default trust key (which daemon.json moves into our data root). stop() removes them
// again when this run created them and they are empty.
const HOST_DIRS = ['/run/docker/plugins', '/run/docker', '/etc/docker'];

export class Dockerd {
  /** The containerd dockerd talks to; its namespace is dockerd's too, so its stop() finds docker's tasks. */
  readonly containerd = new Containerd();
  private proc?: ChildProcess;
  private readonly preexisting = new Set(HOST_DIRS.filter((d) => fs.existsSync(d)));

  get dir(): string {
    return this.containerd.dir;
  }

  get namespace(): string {
    return this.containerd.namespace;
  }

  /** Everything docker creates for a container (cgroupfs driver) lives under /<namespace>/<id>: one subtree to check. */
  get cgroupParent(): string {
    return `/${this.namespace}`;
  }

  get sock(): string {
    return path.join(this.dir, 'd.sock');
  }

  get dataRoot(): string {
    return path.join(this.dir, 'docker');
  }

  // Short: libnetwork's setkey socket lives under it and must fit in sun_path.
  get execRoot(): string {
    return path.join(this.dir, 'x');
  }

  get logFile(): string {
    return path.join(this.dir, 'dockerd.log');
  }

  /** The bundle the shim hands the runtime (config.json as docker generated it). */
  bundle(id: string): string {
    return path.join(this.containerd.state, 'io.containerd.runtime.v2.task', this.namespace, id);
  }

  /** Starts containerd, then dockerd with `runtime` registered as `ocirun` and made the default. */
  async start(runtime: string): Promise<void> {
    await this.containerd.start();
    const config = path.join(this.dir, 'daemon.json');
    // Only settable here: the trust key, which otherwise lands in /etc/docker/key.json.
    fs.writeFileSync(config, JSON.stringify({ 'deprecated-key-path': path.join(this.dataRoot, 'key.json') }));
    const args = [
      '--config-file', config,
      '--data-root', this.dataRoot,
      '--exec-root', this.execRoot,
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '-H', `unix://${this.sock}`,
      '--containerd', this.containerd.sock,
      '--containerd-namespace', this.namespace,
      '--containerd-plugins-namespace', `${this.namespace}-plugins`,
      // No networking of the host's is touched: no bridge, no iptables, no sysctls, no proxy processes.
      '--bridge', 'none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--userland-proxy=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--cgroup-parent', this.cgroupParent,
      // dockerd lowers its own oom_score_adj to -500 by default: that needs CAP_SYS_RESOURCE, which we lack.
      '--oom-score-adjust', '0',
      '--storage-driver', 'overlay2',
      '--add-runtime', `${RUNTIME_NAME}=${runtime}`,
      '--default-runtime', RUNTIME_NAME,
      '--shutdown-timeout', '5',
      '--log-level', 'debug',
    ];
    const log = fs.openSync(this.logFile, 'w');
    this.proc = spawn(DOCKERD, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(this.sock) || this.docker(['version']).code !== 0) {
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`dockerd did not start:\n${this.dockerdLog()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  docker(args: string[], opts: { timeoutMs?: number; input?: string } = {}): CtrResult {
    const r = spawnSync(DOCKER, ['-H', `unix://${this.sock}`, ...args], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      input: opts.input ?? '',
      env: this.clientEnv(),
    });
    return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[spawn] ${r.error.message}` : '') };
  }

  /** The client's environment: no context or host of the machine's, and a config dir of its own. */
  clientEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: path.join(this.dir, 'client') };
    for (const k of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
    return env;
  }

  /** The runtime's log the shim keeps for a container (JSON lines), for failure messages. */
  runtimeLog(id: string): string {
    return this.containerd.shimLog(id);
  }

  dockerdLog(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-60).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * Containers, dockerd, then containerd (which takes shims, mounts and the cgroup subtree), then the host dirs.
   * Returns the processes still in our cgroups after all that (a container init whose shim died, say): they are
   * killed and their cgroups removed, but they are a leak the suite reports.
   */
  async stop(): Promise<string[]> {
    if (this.proc && this.proc.exitCode === null) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      const exited = new Promise((r) => this.proc!.once('exit', r));
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc!.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    await this.containerd.stop();
    const swept = await sweepCgroups(this.namespace);
    for (const d of HOST_DIRS) {
      if (this.preexisting.has(d)) continue;
      if (d === '/etc/docker') this.removeOwnTrustKey();
      try {
        fs.rmdirSync(d);
      } catch {
        /* not empty or gone: the suite's own check reports it */
      }
    }
    return swept;
  }

  /** Host dirs this run created that are still there (the leftover check). */
  leftoverHostDirs(): string[] {
    return HOST_DIRS.filter((d) => !this.preexisting.has(d) && fs.existsSync(d));
  }

  // Only if daemon.json failed to move it: a key.json that appeared in a /etc/docker we created is ours.
  private removeOwnTrustKey(): void {
    fs.rmSync('/etc/docker/key.json', { force: true });
  }
}

// The processes in the namespace's cgroups: nothing names our temp dir in their command line (a created container
// is `runc init` or `ocirun init`), so containerd.ts's sweep by command line misses them when their shim is gone.
async function sweepCgroups(namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of cgroupsOf(namespace)) {
    let pids: string[] = [];
    try {
      pids = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const pid of pids) {
      let cmd = '';
      try {
        cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
      found.push(`${pid} ${cmd}`);
    }
  }
  if (!found.length) return found;
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const d of cgroupsOf(namespace)) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* still busy, or a hierarchy root we cannot remove yet */
      }
    }
    if (!cgroupsOf(namespace).length || Date.now() > deadline) return [...new Set(found)];
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `script` gives the docker client the terminal `run -t` wants; returns its exit status and what it printed. */
export function dockerWithTty(d: Dockerd, args: string[]): CtrResult {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [DOCKER, '-H', `unix://${d.sock}`, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '', env: d.clientEnv() });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
