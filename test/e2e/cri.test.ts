// End to end through containerd 1.6's CRI plugin, the way kubelet runs a pod whose RuntimeClass has handler
// `ocirun`: CRI v1 over gRPC (Version, RunPodSandbox ... RemovePodSandbox), the handler configured with the stanza
// from docs/kubernetes.md, the pod's sandbox and containers run by the runtime under test through the runc shim.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recordCalls, type RuntimeCalls } from './calls';
import { cgroupsOf, mountsUnder } from './containerd';
import { CriClient, type Msg } from './cri/client';
import { CriContainerd, DOC_BINARY, DOC_ROOT, docRuntimeStanza } from './cri/containerd';
import { buildBusyboxImage, buildPauseImage, IMAGE_NAME, PAUSE_IMAGE_NAME } from './image';

const REPO = path.resolve(__dirname, '..', '..');
const OCIRUN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO, 'dist', 'ocirun'));
// E2E_RUNTIME=/usr/sbin/runc runs the same suite against runc (the oracle).
const RUNTIME = process.env.E2E_RUNTIME || OCIRUN;
const HAVE = ['containerd', 'ctr', 'containerd-shim-runc-v2'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0)
  && fs.existsSync('/usr/bin/catatonit');

// Pods go under one top-level cgroup of ours, like kubelet's /kubepods/<qos>/pod<uid>.
const CGROUP_TOP = `ocirun-cri-${process.pid}`;
const POD_CGROUP = `/${CGROUP_TOP}/pod1`;
// Where containerd 1.6's CRI pins pod network namespaces (netns_mounts_under_state_dir = false), as cni-<uuid>.
const NETNS_DIR = '/var/run/netns';
const MiB = 1024 * 1024;

let cd: CriContainerd;
let cri: CriClient;
let calls: RuntimeCalls;
let logDir: string;
const netnsBefore = listDir(NETNS_DIR);
// Other engines' tests may add their own entries meanwhile: only CRI's naming counts.
const newCriNetns = () => listDir(NETNS_DIR).filter((n) => n.startsWith('cni-') && !netnsBefore.includes(n));
// The doc's Root and containerd's default one: the test's pods must use neither.
const hostRoots = ['/run/containerd/ocirun', '/run/containerd/runc/k8s.io'].filter((d) => !fs.existsSync(d));

// The pod under test, filled in as the lifecycle goes.
let podId = '';
let pausePid = 0;
let ctrId = '';
let ctrPid = 0;

function listDir(d: string): string[] {
  try {
    return fs.readdirSync(d).sort();
  } catch {
    return [];
  }
}

// host network and the pod's own pid and ipc namespaces, for the sandbox and each container alike.
const NAMESPACES = { network: 'NODE', pid: 'POD', ipc: 'POD' };

const podConfig = () => ({
  metadata: { name: 'cri-e2e', uid: `uid-${process.pid}`, namespace: 'default', attempt: 0 },
  // kubelet leaves the hostname empty for a hostNetwork pod: the pod has the node's UTS namespace, and a
  // hostname without a UTS namespace of its own is refused by runc and ocirun alike.
  hostname: '',
  log_directory: logDir,
  labels: { app: 'cri-e2e' },
  linux: { cgroup_parent: POD_CGROUP, security_context: { namespace_options: NAMESPACES } },
});

/** The explain-on-failure context: containerd's log tail and the shim's runtime log of an id. */
function context(id?: string): string {
  const runtimeLog = id ? path.join(cd.state, 'io.containerd.runtime.v2.task', cd.namespace, id, 'log.json') : '';
  let log = '';
  try {
    log = runtimeLog ? fs.readFileSync(runtimeLog, 'utf8') : '';
  } catch {
    /* none */
  }
  return `--- runtime log\n${log}\n--- containerd\n${cd.containerdLog()}`;
}

async function rpc(method: string, req: Msg = {}, id?: string): Promise<Msg> {
  try {
    return await (method === 'ImageStatus' ? cri.callImage(method, req) : cri.call(method, req));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${context(id)}`);
  }
}

async function exec(cmd: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const r = await rpc('ExecSync', { container_id: ctrId, cmd, timeout: 30 }, ctrId);
  return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

function nsLinks(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of ['ipc', 'uts', 'pid', 'net', 'mnt']) out[n] = fs.readlinkSync(`/proc/${pid}/ns/${n}`);
  return out;
}

/** A cgroup file of a process from the host, cgroup v1 (per controller) or v2 (unified). */
function cgroupFile(pid: number, controller: string, file: string): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const v1 = lines.find(([, ctrls]) => ctrls.split(',').includes(controller));
  if (v1) return fs.readFileSync(path.join('/sys/fs/cgroup', controller, v1[2], file), 'utf8').trim();
  const v2 = lines.find(([h]) => h === '0');
  if (!v2) throw new Error(`no ${controller} cgroup for ${pid}`);
  return fs.readFileSync(path.join('/sys/fs/cgroup', v2[2], file), 'utf8').trim();
}

const v2 = !fs.existsSync('/sys/fs/cgroup/memory');
const memoryLimit = (pid: number) => cgroupFile(pid, 'memory', v2 ? 'memory.max' : 'memory.limit_in_bytes');
// cgroup v2 has a weight where v1 has shares; runc's conversion (and ocirun's) maps 2..262144 onto 1..10000.
const cpuWeightOf = (shares: number) => String(1 + Math.floor(((shares - 2) * 9999) / 262142));
const cpuShares = (pid: number) => cgroupFile(pid, 'cpu', v2 ? 'cpu.weight' : 'cpu.shares');
const cpuQuota = (pid: number) => (v2 ? cgroupFile(pid, 'cpu', 'cpu.max').split(' ')[0] : cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'));

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(safeRead(`/proc/${pid}/status`));

function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

/** Processes whose command line mentions text (shims carry their id and our socket path in theirs). */
function processesMentioning(text: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .map((p) => `${p} ${safeRead(`/proc/${p}/cmdline`).replace(/\0/g, ' ')}`)
    .filter((l) => l.includes(text));
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The runtime's own view of a container, through the same binary and --root the shim uses. */
function runtimeState(id: string): Msg {
  const r = spawnSync(RUNTIME, ['--root', cd.runtimeRoot, 'state', id], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${RUNTIME} state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The runc shim's socket for a task: containerd 1.6 puts it in /run/containerd/s (not under its own state dir),
 * named by the sha256 of <containerd address>/<namespace>/<id>.
 */
const shimSocket = (id: string) => path.join('/run/containerd/s', createHash('sha256').update(path.join(cd.sock, cd.namespace, id)).digest('hex'));

/** Calls whose runtime command is `command` and whose id is `id`. */
const callsOf = (command: string, id: string) => calls.calls().filter((a) => a.includes(command) && a[a.length - 1] === id);

describe.skipIf(!HAVE)('containerd CRI with a RuntimeClass handler "ocirun"', () => {
  beforeAll(async () => {
    if (!fs.existsSync(OCIRUN)) throw new Error(`${OCIRUN} does not exist: build it first`);
    cd = new CriContainerd({ sandboxImage: PAUSE_IMAGE_NAME, cgroupParent: CGROUP_TOP });
    calls = recordCalls(path.join(cd.dir, 'calls'), RUNTIME);
    cd.binary = calls.bin;
    logDir = path.join(cd.dir, 'pod-logs');
    await cd.start();
    cri = new CriClient(cd.sock);
    // The plugin initialises after containerd serves: Version answers once it is up.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await cri.call('Version', { version: 'v1' }, 5_000);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`CRI did not come up: ${(e as Error).message}\n${context()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // Both images go into CRI's namespace beforehand (as a node preloads its pause image): nothing is pulled.
    const images = path.join(cd.dir, 'images');
    fs.mkdirSync(images);
    for (const tar of [buildBusyboxImage(images), buildPauseImage(images)]) {
      const r = cd.ctr(['images', 'import', tar], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`ctr import ${tar}: ${r.stderr}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (!cd) return;
    const dir = cd.dir;
    calls?.save('containerd-cri');
    // A failed test may leave the pod: take it down the way kubelet would before stopping containerd.
    if (cri) {
      try {
        for (const p of (await cri.call('ListPodSandbox', {}, 10_000)).items) {
          await cri.call('StopPodSandbox', { pod_sandbox_id: p.id }, 30_000).catch(() => undefined);
          await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id }, 30_000).catch(() => undefined);
        }
      } catch {
        /* containerd is gone: stop() cleans up */
      }
      cri.close();
    }
    await cd.stop();
    expect(mountsUnder(dir)).toEqual([]);
    expect(cgroupsOf(CGROUP_TOP)).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    if (pausePid) expect(alive(pausePid)).toBe(false);
    if (ctrPid) expect(alive(ctrPid)).toBe(false);
    expect(newCriNetns()).toEqual([]);
    expect(hostRoots.filter((d) => fs.existsSync(d))).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  }, 120_000);

  test('the handler stanza in docs/kubernetes.md is the one in the config', () => {
    const doc = docRuntimeStanza();
    expect(doc).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirun]');
    expect(doc).toContain('runtime_type = "io.containerd.runc.v2"');
    const used = cd.stanza;
    expect(fs.readFileSync(path.join(cd.dir, 'config.toml'), 'utf8')).toContain(used);
    // Line for line the doc's, but for the binary under test and a test-local Root.
    const expected = doc
      .replace(`BinaryName = "${DOC_BINARY}"`, `BinaryName = "${calls.bin}"`)
      .replace(`Root = "${DOC_ROOT}"`, `Root = "${path.dirname(cd.runtimeRoot)}"`);
    expect(used).toBe(expected);
    expect(used).not.toBe(doc);
  });

  test('Version and Status: the CRI v1 runtime answers and is ready', async () => {
    const v = await rpc('Version', { version: 'v1' });
    expect(v.runtime_name).toBe('containerd');
    expect(v.runtime_api_version).toBe('v1');
    const s = await rpc('Status', {});
    const ready = s.status.conditions.find((c: Msg) => c.type === 'RuntimeReady');
    expect(ready?.status, JSON.stringify(s.status)).toBe(true);
  });

  test("both imported images are in CRI's image store (nothing to pull)", async () => {
    for (const image of [IMAGE_NAME, PAUSE_IMAGE_NAME]) expect((await pollImage(image)).repo_tags).toContain(image);
  });

  test('RunPodSandbox with runtime_handler "ocirun": the pause process runs under the runtime', async () => {
    const r = await rpc('RunPodSandbox', { config: podConfig(), runtime_handler: 'ocirun' });
    podId = r.pod_sandbox_id;
    expect(podId).toMatch(/^[0-9a-f]{64}$/);
    const st = await rpc('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true }, podId);
    expect(st.status.state).toBe('SANDBOX_READY');
    expect(st.status.runtime_handler).toBe('ocirun');
    expect(st.status.metadata.name).toBe('cri-e2e');
    expect(st.status.linux.namespaces.options).toMatchObject(NAMESPACES);
    const info = JSON.parse(st.info.info);
    expect(info.runtimeHandler).toBe('ocirun');
    expect(info.runtimeType).toBe('io.containerd.runc.v2');
    // The spec CRI handed the runtime: the pod's own pid, ipc and mount namespaces, the node's network and UTS.
    expect(info.runtimeSpec.linux.namespaces.map((n: Msg) => n.type).sort()).toEqual(['ipc', 'mount', 'pid']);
    pausePid = info.pid;
    expect(pausePid).toBeGreaterThan(0);

    // From the host: catatonit in pause mode, in the pod's cgroup, on the node's network, in its own pid and ipc.
    // (start returns once the init has been released; the execve into catatonit follows right after.)
    await until('catatonit -P as the pause process', () => safeRead(`/proc/${pausePid}/cmdline`) === '/catatonit\0-P\0');
    const ns = nsLinks(pausePid);
    const host = nsLinks('self');
    expect(ns.net).toBe(host.net);
    expect(ns.uts).toBe(host.uts);
    expect(ns.pid).not.toBe(host.pid);
    expect(ns.ipc).not.toBe(host.ipc);
    expect(fs.readFileSync(`/proc/${pausePid}/cgroup`, 'utf8')).toContain(`${POD_CGROUP}/${podId}\n`);

    // The binary under test made it: its create and start went through the recording wrapper, and the runtime
    // itself reports the sandbox running with that pid under the shim's --root.
    expect(callsOf('create', podId).length, calls.shapes().join('\n')).toBe(1);
    expect(callsOf('start', podId).length).toBe(1);
    const state = runtimeState(podId);
    expect(state.status).toBe('running');
    expect(state.pid).toBe(pausePid);
    // host network: CRI made no network namespace for the pod.
    expect(newCriNetns()).toEqual([]);
    expect(fs.existsSync(shimSocket(podId))).toBe(true);
  });

  test('CreateContainer and StartContainer: busybox in the pod, with limits', async () => {
    const r = await rpc('CreateContainer', {
      pod_sandbox_id: podId,
      sandbox_config: podConfig(),
      config: {
        metadata: { name: 'busy', attempt: 0 },
        image: { image: IMAGE_NAME },
        command: ['sh', '-c', 'echo started; exec sleep 1000'],
        envs: [{ key: 'GREETING', value: 'hello from CRI' }],
        log_path: 'busy.log',
        linux: {
          resources: { memory_limit_in_bytes: 64 * MiB, cpu_shares: 512 },
          // What kubelet sends for a pod with runAsUser: 65534 and seccompProfile RuntimeDefault.
          security_context: { namespace_options: NAMESPACES, run_as_user: { value: 65534 }, seccomp: { profile_type: 'RuntimeDefault' } },
        },
      },
    }, podId);
    ctrId = r.container_id;
    expect((await rpc('ContainerStatus', { container_id: ctrId }, ctrId)).status.state).toBe('CONTAINER_CREATED');
    await rpc('StartContainer', { container_id: ctrId }, ctrId);
    const st = await rpc('ContainerStatus', { container_id: ctrId, verbose: true }, ctrId);
    expect(st.status.state).toBe('CONTAINER_RUNNING');
    expect(Number(st.status.started_at)).toBeGreaterThan(0);
    expect(st.status.image.image).toBe(IMAGE_NAME);
    ctrPid = JSON.parse(st.info.info).pid;
    expect(ctrPid).toBeGreaterThan(0);
    await until('sh to exec sleep', () => safeRead(`/proc/${ctrPid}/cmdline`) === 'sleep\x001000\x00');
    expect(fs.readFileSync(`/proc/${ctrPid}/cgroup`, 'utf8')).toContain(`${POD_CGROUP}/${ctrId}\n`);
    expect(memoryLimit(ctrPid)).toBe(String(64 * MiB));
    expect(cpuShares(ctrPid)).toBe(v2 ? cpuWeightOf(512) : '512');

    expect(callsOf('create', ctrId).length, calls.shapes().join('\n')).toBe(1);
    expect(callsOf('start', ctrId).length).toBe(1);
    expect(runtimeState(ctrId)).toMatchObject({ status: 'running', pid: ctrPid });

    // The container's stdout reaches the CRI log file in kubelet's format: <time> stdout F <line>.
    const logFile = path.join(logDir, 'busy.log');
    await until('the container log', () => /^\S+ stdout F started$/m.test(safeRead(logFile)));
  });

  test('ExecSync: stdout, stderr and the exit code', async () => {
    const r = await exec(['sh', '-c', 'echo out; echo err >&2; echo "$GREETING"; exit 3']);
    expect(r).toEqual({ stdout: 'out\nhello from CRI\n', stderr: 'err\n', code: 3 });
    expect(calls.calls().some((a) => a.includes('exec') && a.includes(ctrId))).toBe(true);
  });

  test("ExecSync runs as the container's user under containerd's default seccomp profile", async () => {
    const r = await exec(['sh', '-c', 'id -u; grep -E "^(Seccomp|CapEff|NoNewPrivs):" /proc/self/status; unshare -U true 2>&1; echo unshare=$?']);
    const [uid, ...rest] = r.stdout.trim().split('\n');
    expect(uid).toBe('65534');
    const status = Object.fromEntries(rest.filter((l) => /^\w+:\t/.test(l)).map((l) => l.split(':\t')));
    // Seccomp 2 = filter mode: containerd's RuntimeDefault profile is loaded; a non-root user keeps no capabilities.
    expect(status).toEqual({ Seccomp: '2', CapEff: '0000000000000000', NoNewPrivs: '0' });
    // The profile refuses unshare without CAP_SYS_ADMIN (EPERM), as it does under runc.
    expect(r.stdout).toMatch(/^unshare=1$/m);
  });

  test("the container shares the pod's namespaces and /dev/shm, and sees the pause process", async () => {
    const r = await exec(['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; for n in ipc uts pid net mnt; do readlink /proc/self/ns/$n; done; hostname; cat /etc/hostname; echo shared > /dev/shm/probe']);
    expect(r.code, r.stderr).toBe(0);
    const [pid1, ipc, uts, pidNs, net, mnt, hostname, etcHostname] = r.stdout.split('\n');
    const pod = nsLinks(pausePid);
    // pid namespace POD: the pause process is pid 1 of the container's view.
    expect(pid1).toBe('/catatonit -P ');
    expect(pidNs).toBe(pod.pid);
    expect(ipc).toBe(pod.ipc);
    expect(uts).toBe(pod.uts);
    expect(net).toBe(pod.net);
    // The container has a mount namespace of its own (its own rootfs), unlike the other four.
    expect(mnt).not.toBe(pod.mnt);
    // host network: the node's hostname, also in the /etc/hostname CRI writes for the pod.
    expect(hostname).toBe(os.hostname());
    expect(etcHostname).toBe(os.hostname());
    // /dev/shm is the pod's tmpfs: what the container wrote is there in the pause process's view.
    expect(safeRead(`/proc/${pausePid}/root/dev/shm/probe`)).toBe('shared\n');
  });

  test('UpdateContainerResources: the new limits land in the cgroup', async () => {
    await rpc('UpdateContainerResources', {
      container_id: ctrId,
      linux: { memory_limit_in_bytes: 96 * MiB, cpu_shares: 256, cpu_period: 100000, cpu_quota: 50000 },
    }, ctrId);
    expect(memoryLimit(ctrPid)).toBe(String(96 * MiB));
    expect(cpuShares(ctrPid)).toBe(v2 ? cpuWeightOf(256) : '256');
    expect(cpuQuota(ctrPid)).toBe('50000');
    expect(calls.calls().some((a) => a.includes('update') && a[a.length - 1] === ctrId), calls.shapes().join('\n')).toBe(true);
    // The container sees the new limit in its own cgroup too.
    const r = await exec(['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
    expect(r.stdout.trim()).toBe(String(96 * MiB));
  });

  test('ContainerStats: non-zero cpu and memory', async () => {
    // Some work in the container's cgroup, so that cpu usage is measurable.
    await exec(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done']);
    const s = (await rpc('ContainerStats', { container_id: ctrId }, ctrId)).stats;
    expect(s.attributes.id).toBe(ctrId);
    expect(Number(s.cpu.usage_core_nano_seconds.value)).toBeGreaterThan(0);
    expect(Number(s.memory.working_set_bytes.value)).toBeGreaterThan(0);
  });

  test('StopContainer and RemoveContainer: the process ends and the runtime forgets it', async () => {
    await rpc('StopContainer', { container_id: ctrId, timeout: 10 }, ctrId);
    const st = (await rpc('ContainerStatus', { container_id: ctrId }, ctrId)).status;
    expect(st.state).toBe('CONTAINER_EXITED');
    // sleep is not pid 1 in the pod's pid namespace: SIGTERM's default action ends it.
    expect(st.exit_code).toBe(143);
    expect(Number(st.finished_at)).toBeGreaterThan(0);
    expect(alive(ctrPid)).toBe(false);
    await rpc('RemoveContainer', { container_id: ctrId }, ctrId);
    expect((await rpc('ListContainers', { filter: { pod_sandbox_id: podId } })).containers).toEqual([]);
    expect(callsOf('delete', ctrId).length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(cd.runtimeRoot, ctrId))).toBe(false);
    // The runtime removed the container's cgroup; the pause process still holds the pod's.
    expect(cgroupsOf(CGROUP_TOP).filter((d) => d.endsWith(`/${ctrId}`))).toEqual([]);
    expect(alive(pausePid)).toBe(true);
  });

  test('a second container as kubelet makes it by default: its own pid namespace, read-only rootfs', async () => {
    const r = await rpc('CreateContainer', {
      pod_sandbox_id: podId,
      sandbox_config: podConfig(),
      config: {
        metadata: { name: 'solo', attempt: 0 },
        image: { image: IMAGE_NAME },
        command: ['sleep', '1000'],
        linux: { security_context: { namespace_options: { ...NAMESPACES, pid: 'CONTAINER' }, readonly_rootfs: true } },
      },
    }, podId);
    const id = r.container_id;
    await rpc('StartContainer', { container_id: id }, id);
    const pid = JSON.parse((await rpc('ContainerStatus', { container_id: id, verbose: true }, id)).info.info).pid;
    const e = await rpc('ExecSync', { container_id: id, cmd: ['sh', '-c', 'cat /proc/1/cmdline; echo; readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; touch /probe'], timeout: 30 }, id);
    const [pid1, pidNs, ipcNs, touch] = Buffer.from(e.stdout).toString().concat(Buffer.from(e.stderr).toString()).split('\n');
    expect(pid1).toBe('sleep\x001000\x00');
    expect(pidNs).toBe(nsLinks(pid).pid);
    expect(pidNs).not.toBe(nsLinks(pausePid).pid);
    expect(ipcNs).toBe(nsLinks(pausePid).ipc);
    expect(touch).toMatch(/Read-only file system/);
    expect(e.exit_code).toBe(1);
    // sleep is pid 1 of its namespace and has no SIGTERM handler: the kernel ignores the signal, and after the
    // grace period CRI kills it.
    await rpc('StopContainer', { container_id: id, timeout: 1 }, id);
    const st = (await rpc('ContainerStatus', { container_id: id }, id)).status;
    expect([st.state, st.exit_code]).toEqual(['CONTAINER_EXITED', 137]);
    await rpc('RemoveContainer', { container_id: id }, id);
    expect(callsOf('create', id).length).toBe(1);
    expect(alive(pid)).toBe(false);
  });

  test('StopPodSandbox and RemovePodSandbox: nothing of the pod is left', async () => {
    await rpc('StopPodSandbox', { pod_sandbox_id: podId }, podId);
    expect((await rpc('PodSandboxStatus', { pod_sandbox_id: podId }, podId)).status.state).toBe('SANDBOX_NOTREADY');
    expect(alive(pausePid)).toBe(false);
    await rpc('RemovePodSandbox', { pod_sandbox_id: podId }, podId);
    expect((await rpc('ListPodSandbox', {})).items).toEqual([]);
    expect(callsOf('delete', podId).length).toBeGreaterThan(0);
    // No runtime state, no cgroup but the two parents, no shm or rootfs mount, no shim (each exits with its task).
    expect(listDir(cd.runtimeRoot)).toEqual([]);
    expect(cgroupsOf(CGROUP_TOP).filter((d) => !d.endsWith(`/${CGROUP_TOP}`) && !d.endsWith(POD_CGROUP))).toEqual([]);
    expect(mountsUnder(cd.dir)).toEqual([]);
    for (const id of [podId, ctrId]) {
      await until(`the shim of ${id} to exit`, () => processesMentioning(id).length === 0);
      expect(fs.existsSync(shimSocket(id))).toBe(false);
    }
    expect(newCriNetns()).toEqual([]);
  });
});

async function pollImage(image: string): Promise<Msg> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const st = await rpc('ImageStatus', { image: { image } });
    if (st.image) return st.image;
    if (Date.now() > deadline) throw new Error(`${image} is not in CRI's image store\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
