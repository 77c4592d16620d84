// The on-disk state of a container under --root/<id>, and the status runc derives from it.
// Owns state.json (written atomically), the per-container lock, and status detection.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../oci';
import { cgroupDriver } from '../cgroups';
import { libc } from '../linux/libc';
import { LOCK_EX } from '../linux/constants';
import { OCI_VERSION } from '../oci';
import { sortedAnnotations } from '../process/hook';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export interface StoredState {
  id: string;
  pid: number;
  // Field 22 of /proc/<pid>/stat: guards against a recycled pid being mistaken for our init.
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  cgroupPaths: Record<string, string>;
  config: Spec;
}

export const STATE_FILE = 'state.json';
export const FIFO = 'exec.fifo';

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), STATE_FILE));
  }

  load(id: string): StoredState {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('container does not exist');
      throw e;
    }
    return checkStoredState(text, id, path.join(this.dir(id), STATE_FILE));
  }

  save(s: StoredState): void {
    const file = path.join(this.dir(s.id), STATE_FILE);
    fs.writeFileSync(file + '.tmp', JSON.stringify(s), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
  }

  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((id) => this.exists(id)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  // Serialises every mutating command on one container; released when the process exits.
  lock(id: string): number {
    let fd: number;
    try {
      fd = fs.openSync(this.dir(id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('container does not exist');
      throw e;
    }
    libc().flock(fd, LOCK_EX);
    return fd;
  }
}

// Another runtime's state.json can sit beside ours: containerd's runc shim gives every handler the same --root
// (/run/containerd/runc/<namespace>) unless its Root option says otherwise, so runc's containers share it.
// Such an entry is not ours to report or delete; say so instead of misreading it.
function checkStoredState(text: string, id: string, file: string): StoredState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const isObject = (x: unknown) => typeof x === 'object' && x !== null;
  const ours = o.id === id && typeof o.pid === 'number' && typeof o.pidStartTime === 'string'
    && typeof o.bundle === 'string' && typeof o.rootfs === 'string' && typeof o.created === 'string'
    && isObject(o.cgroupPaths) && isObject(o.config);
  if (!ours) throw new Error(`container ${id} is not ocirun's: ${file} holds another runtime's state`);
  return v as StoredState;
}

export function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isAlive(s: StoredState): boolean {
  return s.pid > 0 && procStartTime(s.pid) === s.pidStartTime;
}

export function status(store: Store, s: StoredState): Status {
  if (!isAlive(s)) return 'stopped';
  // runc asks the freezer first: a created container can be paused too, and then shows "paused".
  if (cgroupDriver(s.cgroupPaths).isPaused()) return 'paused';
  if (fs.existsSync(path.join(store.dir(s.id), FIFO))) return 'created';
  return 'running';
}

// The JSON `state` prints: runc's shape and key order.
export function publicState(store: Store, s: StoredState) {
  const st = status(store, s);
  const annotations = sortedAnnotations(s.annotations);
  return {
    ociVersion: OCI_VERSION,
    id: s.id,
    pid: st === 'stopped' ? 0 : s.pid,
    status: st,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    // runc's containerState has annotations (omitempty, keys sorted like every Go map) before owner.
    ...(annotations ? { annotations } : {}),
    owner: s.owner,
  };
}
