// `ps`: the container's processes, as a pid list or the host's ps output filtered to them.
// Owns runc's table filtering: the header line, then the lines whose PID column is ours.
import { spawnSync } from 'node:child_process';
import { cgroupDriver } from '../cgroups';
import type { StoredState } from './state';

// runc's Processes(): a stopped container whose cgroup is gone has none (pids() of a missing cgroup).
export function containerPids(s: StoredState): number[] {
  try {
    return cgroupDriver(s.cgroupPaths).pids();
  } catch (e) {
    throw new Error(`unable to get all container pids: ${(e as Error).message}`);
  }
}

export function filterPsTable(output: string, pids: number[]): string {
  const lines = output.split('\n');
  const titles = lines[0].trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new Error("couldn't find PID field in ps output");
  const want = new Set(pids);
  const out = [lines[0]];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    // Go's strconv.Atoi: an optional sign and decimal digits only.
    if (field === undefined || !/^[+-]?\d+$/.test(field)) throw new Error(`unable to parse pid: strconv.Atoi: parsing ${JSON.stringify(field ?? '')}: invalid syntax`);
    if (want.has(Number(field))) out.push(line);
  }
  return out.map((l) => l + '\n').join('');
}

// Runs the host's ps (from PATH, as runc does) and filters its output.
export function psTable(pids: number[], psArgs: string[]): string {
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('exec: "ps": executable file not found in $PATH: ');
    throw r.error;
  }
  // runc reports ps's combined output with Go's exit error.
  if (r.status !== 0) {
    const why = r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`;
    throw new Error(`${why}: ${r.stdout}${r.stderr}`);
  }
  return filterPsTable(r.stdout, pids);
}
