// Detection and forced removal of what a container run can leave on the host:
// processes, mounts under the scratch area, cgroup directories and state directories.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface InodeKey {
  dev: number;
  ino: number;
}

export interface Leftovers {
  processes: { pid: number; why: string; cmdline: string }[];
  mounts: string[];
  cgroups: string[];
  stateDirs: string[];
}

export function isEmpty(l: Leftovers): boolean {
  return l.processes.length + l.mounts.length + l.cgroups.length + l.stateDirs.length === 0;
}

export function summarize(l: Leftovers): string {
  const lines: string[] = [];
  for (const p of l.processes) lines.push(`process ${p.pid} (${p.why}): ${p.cmdline}`);
  for (const m of l.mounts) lines.push(`mount ${m}`);
  for (const c of l.cgroups) lines.push(`cgroup ${c}`);
  for (const s of l.stateDirs) lines.push(`state dir ${s}`);
  return lines.join('\n');
}

function readCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * A container process is recognised by its root directory's inode, because
 * readlink(/proc/PID/root) of a pivoted process just says "/"; a runtime process
 * (stuck `run`, `init` before pivot) by the scratch path in its command line.
 */
export function scanProcesses(scratch: string, rootfsInodes: InodeKey[]): Leftovers['processes'] {
  const found: Leftovers['processes'] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = readCmdline(pid);
    if (cmdline.includes(scratch)) {
      found.push({ pid, why: 'command line names the scratch dir', cmdline });
      continue;
    }
    if (rootfsInodes.length === 0) continue;
    try {
      const st = fs.statSync(`/proc/${pid}/root/`);
      if (rootfsInodes.some((k) => k.dev === st.dev && k.ino === st.ino)) {
        found.push({ pid, why: 'root is a test rootfs', cmdline });
      }
    } catch {
      // Exited meanwhile, or a kernel thread: not ours either way.
    }
  }
  return found;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function scanMounts(scratch: string): string[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    const mp = unescapeMountPath(fields[4] ?? '');
    if (mp === scratch || mp.startsWith(`${scratch}/`)) out.push(mp);
  }
  return out;
}

/**
 * Candidate cgroup directories a runtime could have created for these ids: the id
 * directly under each hierarchy and under this process's own cgroup there (runc
 * nests a relative/empty cgroupsPath under the caller's cgroup on v1). Checking
 * every combination over-approximates, but ids carry our pid so nothing foreign matches.
 */
export function scanCgroups(ids: string[]): string[] {
  if (ids.length === 0) return [];
  const mountsText = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const hierarchies: string[] = [];
  for (const line of mountsText.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') hierarchies.push(unescapeMountPath(line.split(' ')[4] ?? ''));
  }
  const own = new Set<string>(['/']);
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const p = line.split(':').slice(2).join(':');
      if (p !== '') own.add(p);
    }
  } catch {
    // No cgroup file: only the hierarchy roots are candidates.
  }
  const out = new Set<string>();
  for (const h of hierarchies) {
    for (const o of own) {
      for (const id of ids) {
        const candidate = path.join(h, o, id);
        if (fs.existsSync(candidate)) out.add(candidate);
      }
    }
  }
  return [...out];
}

function rmdirTree(dir: string): void {
  // cgroupfs only allows rmdir, bottom-up; files inside are virtual and vanish with the dir.
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // Still populated (a process we could not kill): reported already.
  }
}

/** Best-effort removal so one broken test does not poison the ones after it. */
export function forceClean(l: Leftovers): void {
  for (const p of l.processes) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const mp of [...l.mounts].sort((a, b) => b.length - a.length)) {
    spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
  if (l.cgroups.length > 0) {
    // Give killed members a moment to leave before rmdir.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    for (const c of l.cgroups) rmdirTree(c);
  }
  for (const s of l.stateDirs) fs.rmSync(s, { recursive: true, force: true });
}
