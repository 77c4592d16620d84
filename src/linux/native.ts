// Loads koffi's native addon without ever leaving it on disk.
// Owns the one place where a .node file is dlopen'ed: from an inherited fd, from the SEA asset, or from node_modules in development.
import * as fs from 'node:fs';
import * as path from 'node:path';

// Only the parts of koffi's API we use; typed loosely because koffi ships no types for the raw addon.
export interface Koffi {
  load(name: string | null): KoffiLib;
  errno(): number;
  errno(v: number): number;
  struct(name: string, def: Record<string, string>): unknown;
  struct(def: Record<string, string>): unknown;
  sizeof(t: unknown): number;
  decode(ptr: unknown, type: string): unknown;
}
export interface KoffiLib {
  func(decl: string): KoffiFn;
}
export type KoffiFn = ((...args: unknown[]) => any) & { async: (...args: unknown[]) => void };

// The init receives the addon as an fd from its parent, so that after joining a container's
// namespaces it never opens a path the container controls.
export const KOFFI_FD_ENV = '_OCIRUN_KOFFI';

const O_TMPFILE = 0o20000000 | 0o200000;

let cached: Koffi | undefined;
let addonFd = -1;

function dlopenPath(file: string): Koffi {
  const m = { exports: {} as Koffi };
  process.dlopen(m, file, 2 /* RTLD_NOW */);
  return m.exports;
}

function seaAsset(name: string): Buffer | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as typeof import('node:sea');
    if (!sea.isSea()) return undefined;
    return Buffer.from(sea.getRawAsset(name) as ArrayBuffer);
  } catch {
    return undefined;
  }
}

// An O_TMPFILE inode has no name at any point, so nothing is left behind even if we are killed.
// /tmp may be noexec or read-only, so try several filesystems; dlopen fails on a noexec mount.
function loadFromAnonymousFile(bytes: Buffer): Koffi {
  const dirs = ['/dev/shm', '/tmp', '/run', path.dirname(process.execPath), '/var/tmp'];
  const errors: string[] = [];
  for (const dir of dirs) {
    let fd = -1;
    try {
      // World-readable: in a user namespace our uid is unmapped and only the "other" bits apply. The
      // inode has no name, so only holders of this fd (non-dumpable processes) can reach it.
      fd = fs.openSync(dir, O_TMPFILE | fs.constants.O_RDWR, 0o555);
      fs.writeSync(fd, bytes);
      const k = dlopenPath(`/proc/self/fd/${fd}`);
      addonFd = fd;
      return k;
    } catch (e) {
      errors.push(`${dir}: ${(e as Error).message}`);
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  throw new Error(`cannot load the native addon: ${errors.join('; ')}`);
}

export function koffi(): Koffi {
  if (cached) return cached;
  const inherited = process.env[KOFFI_FD_ENV];
  if (inherited) {
    addonFd = Number(inherited);
    cached = dlopenPath(`/proc/self/fd/${addonFd}`);
    return cached;
  }
  const bytes = seaAsset('koffi.node');
  if (bytes) {
    cached = loadFromAnonymousFile(bytes);
    return cached;
  }
  // Development and unit tests: the plain package from node_modules.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached = require('koffi') as Koffi;
  return cached;
}

// The fd the addon was loaded from, to hand to a child process; -1 when loaded by path.
export function koffiAddonFd(): number {
  koffi();
  return addonFd;
}
