// Regression tests for runtime escapes: CVE-2019-5736 (overwriting the runtime binary
// through /proc/PID/exe) and CVE-2024-21626 (leaked host fds reachable via process.cwd).
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCIRUN_BIN, runtimeEnv, uniqueId, requireBinaries } from './helpers/env';
import { onReadOnlyMount, writeSealed } from './helpers/native';
import { ROOTFS_MARKER } from './helpers/rootfs';
import { create, explain, ok, run, sleepMs, start, state } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(OCIRUN_BIN));

/** Linux O_PATH (same value on x86_64 and arm64); Node does not export it. */
const O_PATH = 0o10000000;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const openFds: number[] = [];
afterEach(() => {
  for (const fd of openFds.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed.
    }
  }
});

function openPath(p: string): number {
  const fd = fs.openSync(p, O_PATH);
  openFds.push(fd);
  return fd;
}

type ReopenOutcome = { opened: false; code: string } | { opened: true; fd: number };

/** Reopens an O_PATH fd for appending, the step the 2019 exploit used once the runtime had exited. */
function reopenForWrite(pathFd: number): ReopenOutcome {
  try {
    const fd = fs.openSync(`/proc/self/fd/${pathFd}`, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    openFds.push(fd);
    return { opened: true, fd };
  } catch (e) {
    return { opened: false, code: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

describe('CVE-2019-5736: the runtime binary cannot be overwritten from a container', () => {
  test('control: the probe does detect a writable executable', async () => {
    // Without this, a probe that could never succeed would make the real test vacuous.
    const copy = path.join(sb.dir('control'), 'busybox-copy');
    fs.copyFileSync('/bin/busybox', copy);
    fs.chmodSync(copy, 0o755);
    const before = sha256(copy);
    const child = spawn(copy, ['sleep', '30'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid ?? -1;
    while (!cmdline(pid).startsWith(copy) && !cmdline(pid).startsWith('sleep')) sleepMs(5);
    const pathFd = openPath(`/proc/${pid}/exe`);
    expect(reopenForWrite(pathFd)).toEqual({ opened: false, code: 'ETXTBSY' });
    expect(onReadOnlyMount(pathFd)).toBe(false);
    expect(writeSealed(pathFd)).toBe(false);
    child.kill('SIGKILL');
    await exited;
    const r = reopenForWrite(pathFd);
    expect(r.opened).toBe(true);
    if (r.opened) fs.writeSync(r.fd, 'x');
    expect(sha256(copy)).not.toBe(before);
  });

  test('writing /proc/1/exe from inside the container namespaces fails and the binary is unchanged', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-5736-ns'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const before = sha256(OCIRUN_BIN);
    ok(create(rt, id, b.dir));
    const pid = state(rt, id).pid;
    // While created, the container's pid 1 is still the runtime's own init process.
    const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-p', 'sh', '-c', 'echo x >> /proc/1/exe; echo "rc=$?"'], {
      encoding: 'utf8',
      env: runtimeEnv(),
      timeout: 10_000,
    });
    expect(r.stdout, `${r.stdout}\n${r.stderr}`).toMatch(/rc=[1-9]/);
    expect(r.stderr).toMatch(/Text file busy|Read-only file system|Operation not permitted/);
    expect(sha256(OCIRUN_BIN)).toBe(before);
  });

  test('the init executable is sealed: reopening it for write fails with EROFS/EPERM after start', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-5736-fd'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    const before = sha256(OCIRUN_BIN);
    ok(create(rt, id, b.dir));
    const pid = state(rt, id).pid;
    const pathFd = openPath(`/proc/${pid}/exe`);

    const whileRunning = reopenForWrite(pathFd);
    expect(whileRunning.opened, 'init exe writable while it runs').toBe(false);

    ok(start(rt, id));
    const deadline = Date.now() + 10_000;
    while (cmdline(pid) !== 'sleep\u000060\u0000') {
      if (Date.now() > deadline) throw new Error(`init never exec'd the container process: ${cmdline(pid)}`);
      sleepMs(10);
    }
    // This container no longer executes that file, so only a read-only mount (EROFS, what
    // runc 1.1.5 gives) or a write-sealed memfd (EPERM) protects it once every other
    // runtime process is gone. ETXTBSY here would only mean some other process (another
    // container's init anywhere on the host) still runs the same inode: transient, so the
    // seal is proven structurally instead of by the error code alone.
    const roMount = onReadOnlyMount(pathFd);
    const sealed = writeSealed(pathFd);
    expect(roMount || sealed, 'init exe is neither on a read-only mount nor a write-sealed memfd').toBe(true);
    const after = reopenForWrite(pathFd);
    if (after.opened) {
      const host = fs.statSync(OCIRUN_BIN);
      const target = fs.fstatSync(after.fd);
      expect(target.dev === host.dev && target.ino === host.ino, 'init ran the host binary itself, writable').toBe(false);
      let code = 'written';
      try {
        fs.writeSync(after.fd, 'x');
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      expect(code, 'private copy of the runtime is not sealed').toBe('EPERM');
    } else {
      expect(['EROFS', 'EPERM', 'ETXTBSY']).toContain(after.code);
    }
    expect(sha256(OCIRUN_BIN)).toBe(before);
  });
});

describe('CVE-2024-21626: no host fd or directory reaches the container', () => {
  test('process.cwd = /proc/self/fd/N (N = 3..10) fails or stays inside the rootfs', () => {
    const rt = sb.runtime('ocirun');
    const outcomes: string[] = [];
    for (let n = 3; n <= 10; n += 1) {
      const id = sb.track(rt, uniqueId(`cve-21626-cwd${n}`));
      // Climbing ".." from a leaked host directory ends at the host root, which has no marker.
      const b = sb.bundle({
        cwd: `/proc/self/fd/${n}`,
        args: [
          'sh',
          '-c',
          `readlink /proc/self/cwd; cd -P ../../../../../../../../../..; if [ -e ./${ROOTFS_MARKER} ]; then echo INSIDE; else echo ESCAPED; ls; fi`,
        ],
      });
      const r = run(rt, ['run', '--bundle', b.dir, id]);
      if (r.code === 0) {
        expect(r.stdout, explain(r)).toContain('INSIDE');
        expect(r.stdout, explain(r)).not.toContain('ESCAPED');
        expect(r.stdout, explain(r)).not.toContain('(unreachable)');
        outcomes.push(`fd ${n}: ran inside`);
      } else {
        expect(r.code, explain(r)).not.toBeNull();
        expect(r.stdout, explain(r)).not.toContain('ESCAPED');
        outcomes.push(`fd ${n}: refused`);
      }
    }
    expect(outcomes).toHaveLength(8);
  });

  test('the container process holds only stdio fds, none pointing at a host path', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('cve-21626-fds'));
    const b = sb.bundle({
      args: [
        'sh',
        '-c',
        // ls reads its own directory fd (3) too. pid 1 (this shell) shows the inherited
        // set exactly, as long as it is looked at while no pipe or $(...) is open.
        'ls -l /proc/1/fd; echo "self: $(ls /proc/self/fd | tr "\\n" " ")"',
      ],
    });
    const r = ok(run(rt, ['run', '--bundle', b.dir, id]));
    expect(r.stdout, explain(r)).toMatch(/^self: 0 1 2 3 $/m);
    const pid1 = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('l'))
      .map((l) => l.replace(/^.* (\d+) -> /, '$1 -> '));
    expect(pid1.map((l) => l.split(' ')[0]), explain(r)).toEqual(['0', '1', '2']);
    for (const line of pid1) {
      // The test hands the runtime pipes for stdio, so anything else leaked in.
      expect(line, explain(r)).toMatch(/^\d -> pipe:\[\d+\]$/);
    }
  });
});
