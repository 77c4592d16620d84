// Where a container's cgroups live: linux.cgroupsPath resolved as runc's cgroupfs driver does, and the
// systemd "slice:prefix:name" form parsed and validated as runc's systemd driver does, mapped to cgroupfs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hierarchyKey, parseProcCgroup, type Hierarchy } from './hierarchy';

// Absolute paths are taken from each hierarchy's root, relative ones (and the default, the container
// id) from the runtime's own cgroup in that hierarchy.
export function resolvePaths(
  cgroupsPath: string | undefined,
  id: string,
  hierarchies: Hierarchy[],
  own: Map<string, string>,
): Record<string, string> {
  const inner = cgroupsPath ? path.posix.normalize(cgroupsPath) : id;
  if (inner.split('/').includes('..')) throw new Error(`linux.cgroupsPath: must not contain "..": ${cgroupsPath}`);
  const out: Record<string, string> = {};
  for (const h of hierarchies) {
    const key = hierarchyKey(h);
    const base = path.posix.isAbsolute(inner) ? inner : path.posix.join(own.get(key) ?? '/', inner);
    // The mountpoint shows the hierarchy from h.root downwards.
    const rel = path.posix.relative(h.root, base);
    if (rel === '..' || rel.startsWith('../')) throw new Error(`cgroup path ${base} is outside the mounted hierarchy ${h.mountpoint}`);
    out[key] = path.posix.join(h.mountpoint, rel);
  }
  return out;
}

export function ownCgroups(): Map<string, string> {
  return parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
}

// systemd names nested slices with dashes: "a-b.slice" is /a.slice/a-b.slice; "-.slice" is the root.
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (!slice.endsWith(suffix) || slice.includes('/')) throw new Error(`invalid slice name: ${slice}`);
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const part of name.split('-')) {
    // "a--b.slice", "-a.slice", "a-.slice" and ".slice" have an empty component.
    if (!part) throw new Error(`invalid slice name: ${slice}`);
    out += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return out;
}

export interface SystemdUnit {
  slice: string;
  prefix: string;
  name: string;
}

// The cgroupsPath of --systemd-cgroup: "slice:prefix:name"; empty means runc's default scope.
export function parseSystemdPath(cgroupsPath: string | undefined, id: string, defaultPrefix: string): SystemdUnit {
  if (!cgroupsPath) return { slice: '', prefix: defaultPrefix, name: id };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) {
    throw new Error(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
  }
  const [slice, prefix, name] = parts;
  if (slice) expandSlice(slice);
  if (!name) throw new Error(`linux.cgroupsPath: the unit name of ${JSON.stringify(cgroupsPath)} is empty`);
  if (name.includes('/') || prefix.includes('/')) throw new Error(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)}: prefix and name must not contain "/"`);
  return { slice, prefix, name };
}

// A scope unless the name is itself a slice, as runc's getUnitName.
export function unitName(u: SystemdUnit): string {
  if (u.name.endsWith('.slice')) return u.name;
  return u.prefix ? `${u.prefix}-${u.name}.scope` : `${u.name}.scope`;
}

// The absolute cgroup path systemd would give the unit: the expanded slice (system.slice by default)
// with the unit below it, from the root of every hierarchy.
export function systemdCgroupPath(u: SystemdUnit): string {
  const slice = u.slice ? expandSlice(u.slice) : '/system.slice';
  return path.posix.join(slice, unitName(u));
}

// runc's IsRunningSystemd.
export function systemdRunning(): boolean {
  try {
    return fs.statSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}
