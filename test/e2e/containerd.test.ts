// End to end through Debian's containerd 1.6 and its runc shim (containerd-shim-runc-v2) with
// `--runc-binary dist/ocirun`: the shim drives ocirun exactly as it drives runc in production
// (create --bundle --pid-file [--console-socket], start, state, kill, delete, pause/resume, ps, exec).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cgroupsOf, Containerd, mountsUnder, type CtrResult } from './containerd';
import { buildBusyboxImage, IMAGE_NAME } from './image';
import { recordCalls, type RuntimeCalls } from './calls';

const REPO = path.resolve(__dirname, '..', '..');
const OCIRUN = path.resolve(process.env.OCIRUN_BIN ?? path.join(REPO, 'dist', 'ocirun'));
// E2E_RUNTIME=/usr/sbin/runc runs the same suite against runc (the oracle), every test included.
const ORACLE = process.env.E2E_RUNTIME || undefined;
const RUNTIME = ORACLE ?? OCIRUN;
const HAVE = ['containerd', 'ctr', 'containerd-shim-runc-v2'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);

// Features other work brings: the tests for them switch on by themselves once the binary has them.
// (Every command prints help; exec's lists its flags only once it exists.)
const execImplemented = !!ORACLE || (() => {
  const r = spawnSync(OCIRUN, ['exec', '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--process');
})();
const consoleImplemented = !!ORACLE || (() => {
  const r = spawnSync(OCIRUN, ['--root', '/nonexistent-ocirun-probe', 'create', '--console-socket', '/nonexistent', '--bundle', '/nonexistent', 'probe'], { encoding: 'utf8' });
  return !/not implemented/.test(r.stderr);
})();

let cd: Containerd;
// Every call the shim makes goes through a logging wrapper (test/e2e/calls.ts).
let calls: RuntimeCalls;
let n = 0;
const newId = () => `c${++n}`;

function explain(r: CtrResult, id?: string): string {
  return `exit=${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- runtime log\n${id ? cd.shimLog(id) : ''}\n--- containerd\n${cd.containerdLog()}`;
}

function ok(r: CtrResult, id?: string): CtrResult {
  if (r.code !== 0) throw new Error(`ctr failed\n${explain(r, id)}`);
  return r;
}

function taskLine(id: string): string[] | undefined {
  const line = cd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line?.trim().split(/\s+/);
}

function taskStatus(id: string): string | undefined {
  return taskLine(id)?.[2];
}

/** The task's init process as the host sees it. */
function taskPid(id: string): number {
  const pid = Number(taskLine(id)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for task ${id}`);
  return pid;
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const MiB = 1024 * 1024;
// ctr 1.6's --mount splits options on ':'. A "cgroup" mount gives the container its own cgroups read-only
// (runc's semantics), so the limits the runtime set can be read from inside.
const CGROUP_MOUNT = 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec';

async function waitStatus(id: string, want: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = taskStatus(id);
    if (s === want) return;
    if (Date.now() > deadline) throw new Error(`task ${id} is ${s}, wanted ${want}\n${cd.shimLog(id)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const runArgs = (id: string, ...rest: string[]) => ['run', '--runc-binary', calls.bin, ...rest, IMAGE_NAME, id];

describe.skipIf(!HAVE)('containerd with --runc-binary ocirun', () => {
  beforeAll(async () => {
    if (!fs.existsSync(OCIRUN)) throw new Error(`${OCIRUN} does not exist: build it first`);
    cd = new Containerd();
    // mkdtemp makes it 0700: a user namespace's root (an unprivileged id outside) could not reach the bundle's
    // rootfs under state/ to bind it. containerd makes its state dir 0711 for the same reason.
    fs.chmodSync(cd.dir, 0o711);
    await cd.start();
    calls = recordCalls(path.join(cd.dir, 'calls'), RUNTIME);
    const image = buildBusyboxImage(path.join(cd.dir, 'image'));
    ok(cd.ctr(['images', 'import', '--all-platforms', image], { timeoutMs: 60_000 }));
  }, 120_000);

  afterAll(async () => {
    if (!cd) return;
    const dir = cd.dir;
    const ns = cd.namespace;
    calls?.save('containerd-ctr');
    // Every test deleted its containers: the runtime's root must hold no state for any of them.
    const runtimeState = fs.existsSync(cd.runtimeRoot) ? fs.readdirSync(cd.runtimeRoot) : [];
    await cd.stop();
    expect(runtimeState).toEqual([]);
    expect(fs.existsSync(cd.runtimeRoot)).toBe(false);
    // Nothing may outlive the suite: no mounts under our dir, no cgroups of our namespace, no process of ours.
    expect(mountsUnder(dir)).toEqual([]);
    expect(cgroupsOf(ns)).toEqual([]);
    const left = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  }, 120_000);

  test('ctr run --rm: output and exit status come through the shim', () => {
    const id = newId();
    const r = cd.ctr([...runArgs(id, '--rm'), 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    expect(r.code, explain(r, id)).toBe(3);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('oops\n');
    expect(cd.ctr(['container', 'ls', '-q']).stdout).not.toContain(id);
  });

  test('ctr run --rm: the process is pid 1 with the image environment', () => {
    const id = newId();
    const r = ok(cd.ctr([...runArgs(id, '--rm'), 'sh', '-c', 'echo $$ $PATH; id -u; cat /proc/self/cgroup | grep -c .']), id);
    const [first, uid] = r.stdout.split('\n');
    expect(first).toBe('1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(uid).toBe('0');
  });

  test('a detached task: ps, pause, resume, kill, delete', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sh', '-c', 'sleep 1000 & wait']), id);
    try {
      await waitStatus(id, 'RUNNING');
      const ps = ok(cd.ctr(['task', 'ps', id]), id).stdout.trim().split('\n').slice(1);
      // sh (pid 1 inside) and its sleep: host pids, one line each.
      expect(ps.length, ps.join('\n')).toBe(2);
      ok(cd.ctr(['task', 'pause', id]), id);
      await waitStatus(id, 'PAUSED');
      ok(cd.ctr(['task', 'resume', id]), id);
      await waitStatus(id, 'RUNNING');
      ok(cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]), id);
      await waitStatus(id, 'STOPPED');
      ok(cd.ctr(['task', 'delete', id]), id);
      expect(taskStatus(id)).toBeUndefined();
    } finally {
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test('a detached task exits on SIGTERM with its status', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']), id);
    try {
      await waitStatus(id, 'RUNNING');
      ok(cd.ctr(['task', 'kill', id]), id);
      await waitStatus(id, 'STOPPED');
      // ctr 1.6's task delete reports a non-zero status as a warning.
      const del = ok(cd.ctr(['task', 'delete', id]), id);
      expect(del.stderr).toContain(`task ${id} exit with non-zero exit code 42`);
    } finally {
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test.skipIf(!execImplemented)('ctr task exec: output and exit status of a process in a running task', async () => {
    const id = newId();
    ok(cd.ctr([...runArgs(id, '-d'), 'sleep', '1000']), id);
    try {
      await waitStatus(id, 'RUNNING');
      const r = cd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo as $$ beside $(cat /proc/1/comm); exit 5']);
      expect(r.code, explain(r, id)).toBe(5);
      expect(r.stdout).toMatch(/^as \d+ beside sleep\n$/);
      expect(r.stdout).not.toBe('as 1 beside sleep\n');
    } finally {
      cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test.skipIf(!consoleImplemented)('ctr run --tty through a real pty', () => {
    const id = newId();
    // ctr wants its stdin to be a terminal: script(1) gives it one.
    const cmd = `ctr -a ${cd.sock} -n ${cd.namespace} run --rm -t --runc-binary ${calls.bin} ${IMAGE_NAME} ${id} sh -c 'tty; exit 4'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '' });
    expect(r.status, `${r.stdout}\n${r.stderr}\n${cd.shimLog(id)}`).toBe(4);
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console)/);
  });

  test('ctr task metrics: the shim reads real numbers from the cgroup the runtime made', async () => {
    const id = newId();
    const limit = 48 * MiB;
    ok(cd.ctr([...runArgs(id, '-d', '--memory-limit', String(limit)), 'sh', '-c', 'sleep 1000 & wait']), id);
    try {
      await waitStatus(id, 'RUNNING');
      // The 1.6 shim finds the cgroup from the init pid (/proc/<pid>/cgroup) and reads it itself.
      const pid = taskPid(id);
      const ownCgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      expect(ownCgroup).toContain(`/${cd.namespace}/${id}\n`);
      // sh and its sleep: wait until the sleep is forked, then both count.
      await waitFor('two processes', () => (cd.ctr(['task', 'ps', id]).stdout.trim().split('\n').length === 3 ? true : undefined));
      const r = ok(cd.ctr(['task', 'metrics', '--format', 'json', id]), id);
      const m = JSON.parse(r.stdout);
      expect(m.pids?.current, r.stdout).toBe(2);
      expect(m.memory?.usage?.usage, r.stdout).toBeGreaterThan(0);
      expect(m.memory?.usage?.limit, r.stdout).toBe(limit);
      expect(m.cpu?.usage?.total, r.stdout).toBeGreaterThan(0);
      // The table form too (what a user sees).
      const table = ok(cd.ctr(['task', 'metrics', id]), id).stdout;
      expect(table).toMatch(/^pids\.current\s+2\s*$/m);
      expect(table).toMatch(new RegExp(`^memory\\.limit_in_bytes\\s+${limit}\\s*$`, 'm'));
    } finally {
      cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test('ctr run --read-only: the rootfs refuses writes, tmpfs mounts do not', () => {
    const id = newId();
    const script = [
      'for p in / /etc /bin /tmp /run /dev/shm; do if msg=$(touch $p/probe 2>&1); then echo "$p rw"; else echo "$p ro ${msg##*: }"; fi; done',
      'while read dev mnt type opts rest; do case $mnt in /|/tmp) echo "mount $mnt ${opts%%,*}";; esac; done < /proc/mounts',
    ].join('\n');
    const r = ok(cd.ctr([...runArgs(id, '--rm', '--read-only', '--mount', 'type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:mode=1777'), 'sh', '-c', script]), id);
    expect(r.stdout.split('\n')).toEqual([
      '/ ro Read-only file system',
      '/etc ro Read-only file system',
      '/bin ro Read-only file system',
      '/tmp rw',
      '/run rw',
      '/dev/shm rw',
      'mount / ro',
      'mount /tmp rw',
      '',
    ]);
  });

  test('ctr run --uidmap/--gidmap: a user namespace, root inside, unprivileged ids outside', async () => {
    const id = newId();
    // ctr 1.6 shifts the image's ownership into a remapped copy of the snapshot (overlayfs has no remap labels).
    const script = 'id -u > /tmp/uid; id -g > /tmp/gid; cat /proc/self/uid_map /proc/self/gid_map > /tmp/maps; touch /tmp/done; exec sleep 1000';
    ok(cd.ctr([...runArgs(id, '-d', '--uidmap', '0:100000:65536', '--gidmap', '0:200000:65536'), 'sh', '-c', script]), id);
    try {
      await waitStatus(id, 'RUNNING');
      const pid = taskPid(id);
      const root = `/proc/${pid}/root`;
      await waitFor('the script', () => (fs.existsSync(`${root}/tmp/done`) ? true : undefined));
      // Inside: root, and the mappings ctr asked for.
      expect(fs.readFileSync(`${root}/tmp/uid`, 'utf8')).toBe('0\n');
      expect(fs.readFileSync(`${root}/tmp/gid`, 'utf8')).toBe('0\n');
      expect(fs.readFileSync(`${root}/tmp/maps`, 'utf8').split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual([
        '0 100000 65536',
        '0 200000 65536',
        '',
      ]);
      // Outside: the process and the files it made belong to the mapped ids, in a user namespace not the host's.
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
      expect(status).toMatch(/^Gid:\s+200000\s+200000\s+200000\s+200000$/m);
      expect(fs.readlinkSync(`/proc/${pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
      const st = fs.statSync(`${root}/tmp/done`);
      expect([st.uid, st.gid]).toEqual([100000, 200000]);
      // The image's files were shifted too: root-owned inside means 100000 outside.
      const bin = fs.statSync(`${root}/bin/busybox`);
      expect([bin.uid, bin.gid]).toEqual([100000, 200000]);
    } finally {
      cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      cd.ctr(['task', 'delete', '-f', id]);
      cd.ctr(['container', 'delete', id]);
    }
  });

  test('ctr run --memory-limit: the container sees the limit in its memory cgroup', () => {
    const id = newId();
    const limit = 64 * MiB;
    const script = 'grep -E "^[0-9]+:memory:" /proc/self/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes';
    const r = ok(cd.ctr([...runArgs(id, '--rm', '--memory-limit', String(limit), '--mount', CGROUP_MOUNT), 'sh', '-c', script]), id);
    const [line, seen] = r.stdout.split('\n');
    expect(line).toMatch(new RegExp(`^\\d+:memory:/${cd.namespace}/${id}$`));
    expect(Number(seen)).toBe(limit);
  });

  test('a pids limit (ctr run --config: ctr\'s own default spec plus linux.resources.pids) bounds a fork bomb', () => {
    // ctr 1.6 has no pids flag. With --config it takes the whole spec from the file and no snapshot (only the id
    // may follow), so the spec names a rootfs: a copy of the image's layer tree, mounted read-only.
    const id = newId();
    const rootfs = path.join(cd.dir, `rootfs-${id}`);
    fs.cpSync(path.join(cd.dir, 'image', 'layer'), rootfs, { recursive: true, verbatimSymlinks: true });
    const limit = 16;
    // The subshell forks sleeps until fork fails (ash then exits it with 2); the rest uses builtins only,
    // since the cgroup is full: read, globbing, kill.
    const script = [
      '( i=0; while [ $i -lt 64 ]; do sleep 30 & i=$((i+1)); done ) 2>/dev/null',
      'echo bomb=$?',
      'set -- /proc/[0-9]*; echo procs=$#',
      'read cur < /sys/fs/cgroup/pids/pids.current; read max < /sys/fs/cgroup/pids/pids.max',
      'while read k v; do [ "$k" = max ] && echo refused=$v; done < /sys/fs/cgroup/pids/pids.events',
      'echo current=$cur max=$max',
      'kill -9 -1',
    ].join('\n');
    const spec = JSON.parse(ok(cd.ctr(['oci', 'spec'])).stdout);
    spec.root = { path: rootfs, readonly: true };
    spec.process.args = ['sh', '-c', script];
    spec.process.env = ['PATH=/bin'];
    spec.linux.cgroupsPath = `/${cd.namespace}/${id}`;
    spec.linux.resources = { ...spec.linux.resources, pids: { limit } };
    spec.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] });
    const config = path.join(cd.dir, `spec-${id}.json`);
    fs.writeFileSync(config, JSON.stringify(spec));
    const r = ok(cd.ctr(['run', '--runc-binary', calls.bin, '--rm', '--config', config, id]), id);
    const out = Object.fromEntries(r.stdout.split(/\s+/).filter(Boolean).map((kv) => kv.split('=')));
    expect(out.max, r.stdout).toBe(String(limit));
    // The bomb hit the limit: its subshell failed to fork, the cgroup counted refusals, and what is left
    // (sh plus the sleeps) fits under it.
    expect(out.bomb, r.stdout).not.toBe('0');
    expect(Number(out.refused), r.stdout).toBeGreaterThan(0);
    expect(Number(out.procs), r.stdout).toBeLessThan(limit);
    expect(Number(out.procs), r.stdout).toBeGreaterThan(1);
    expect(Number(out.current), r.stdout).toBe(Number(out.procs));
    fs.rmSync(rootfs, { recursive: true, force: true });
  });

  test('an OOM kill: ctr run --rm exits 137 and containerd gets a TaskOOM event', async () => {
    const id = newId();
    // Subscribe first; a namespace label update proves the subscription is live before the run.
    const events = spawn('ctr', ['-a', cd.sock, '-n', cd.namespace, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    events.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    const exited = new Promise((r) => events.once('exit', r));
    try {
      let probe = 0;
      await waitFor('ctr events to subscribe', () => {
        if (seen.includes('/namespaces/update')) return true;
        cd.ctr(['namespaces', 'label', cd.namespace, `probe=${++probe}`]);
        return undefined;
      });
      // Well above what ocirun's init needs at create (~17 MB, issue 8). Pid 1 doubles a string until the kernel
      // kills it: the only process there is, so the victim is certain. (With `head /dev/zero | tail` under sh,
      // the kernel sometimes kills sh too in a second OOM while tail's memory is still being freed, under runc
      // as under ocirun: 1/30 and 2/30 runs here, so sh's status would be a coin toss.)
      const r = cd.ctr([...runArgs(id, '--rm', '--memory-limit', String(32 * MiB)), 'sh', '-c', 'x=0123456789abcdef; while :; do x=$x$x; done']);
      expect(r.code, explain(r, id)).toBe(137);
      await waitFor('the TaskOOM event', () => (seen.includes(`/tasks/oom {"container_id":"${id}"}`) ? true : undefined));
      expect(seen).toContain(`/tasks/exit {"container_id":"${id}","id":"${id}"`);
      expect(seen).toMatch(new RegExp(`/tasks/exit \\{"container_id":"${id}".*"exit_status":137`));
    } finally {
      events.kill('SIGKILL');
      await exited;
    }
  });
});
