// Host side of config.json `mounts`: every option checked before anything exists (errors name the JSON
// path), and the detached id-mapped trees the init attaches, made here because it cannot make them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxIDMapping, Mount, Spec } from '../oci';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { isErrno } from '../linux/errors';
import { isBind, isKeyValue, isWellKnownDataFlag, parseMountOptions } from '../init/mountopts';
import { userNamespaceFd } from '../process/userns';

// Whether the kernel's parser for fstype takes word as a flag, asked through fsopen()+fsconfig() (no
// superblock is made). undefined when it cannot be asked: unknown type, or no CAP_SYS_ADMIN.
function kernelTakesFlag(fstype: string, word: string): boolean | undefined {
  let fd: number;
  try {
    fd = libc().fsopen(fstype, C.FSOPEN_CLOEXEC);
  } catch {
    return undefined;
  }
  try {
    libc().fsconfig(fd, C.FSCONFIG_SET_FLAG, word, null, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EINVAL') ? false : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

// The rule for options in none of runc's tables. A bind mount ignores filesystem data, so any such
// option is an error (runc 1.2 refuses them too). For other mounts, key=value options are data and
// the filesystem judges them at mount time; a bare word is data if that filesystem's parser accepts
// it as a flag, or, when the kernel cannot be asked, if it is a well-known filesystem flag.
function checkData(m: Mount, at: string, data: string[], bind: boolean): void {
  for (const opt of data) {
    if (bind) {
      if (isKeyValue(opt)) throw new Error(`${at}: "${opt}" is filesystem data, which a bind mount cannot take`);
      throw new Error(`${at}: unknown option ${JSON.stringify(opt)}`);
    }
    if (isKeyValue(opt)) continue;
    const kernel = m.type ? kernelTakesFlag(m.type, opt) : undefined;
    if (kernel === false || (kernel === undefined && !isWellKnownDataFlag(opt))) {
      throw new Error(`${at}: unknown option ${JSON.stringify(opt)}${kernel === false ? ` (not a mount flag, and ${m.type} does not take it)` : ''}`);
    }
  }
}

const given = (maps?: LinuxIDMapping[]): maps is LinuxIDMapping[] => maps !== undefined && maps.length > 0;

export type IdmapSource = { uidMappings: LinuxIDMapping[]; gidMappings: LinuxIDMapping[] } | { usernsPath: string };

// runc 1.2's rules: a mount is id-mapped with "idmap"/"ridmap" or with its own mappings; without
// mappings it takes the container's (or the joined user namespace itself); both are needed.
export function idmapSource(spec: Spec, i: number): IdmapSource | undefined {
  const m = (spec.mounts ?? [])[i];
  const o = parseMountOptions(m.options);
  if (!o.idmap && !given(m.uidMappings) && !given(m.gidMappings)) return undefined;
  const at = `mounts[${i}]`;
  if (!isBind(o, m.type)) throw new Error(`${at}: id-mapped mounts are only supported for bind mounts`);
  if (process.geteuid?.() !== 0) throw new Error(`${at}: id-mapped mounts need a runtime running as root (CAP_SYS_ADMIN over the source)`);
  if (given(m.uidMappings) !== given(m.gidMappings)) {
    throw new Error(`${at}: id-mapped mounts need both uidMappings and gidMappings`);
  }
  if (given(m.uidMappings) && given(m.gidMappings)) return { uidMappings: m.uidMappings, gidMappings: m.gidMappings };
  const linux = spec.linux ?? {};
  const userns = (linux.namespaces ?? []).find((n) => n.type === 'user');
  if (userns?.path) return { usernsPath: userns.path };
  if (userns && given(linux.uidMappings) && given(linux.gidMappings)) {
    return { uidMappings: linux.uidMappings, gidMappings: linux.gidMappings };
  }
  throw new Error(`${at}: id-mapped mounts need uidMappings and gidMappings, or a user namespace to take them from`);
}

function hasNul(s: unknown): boolean {
  return typeof s === 'string' && s.includes('\0');
}

export function checkMounts(spec: Spec, noPivot: boolean): void {
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const at = `mounts[${i}]`;
    for (const key of ['destination', 'source', 'type'] as const) {
      if (hasNul(m[key])) throw new Error(`${at}.${key}: contains a NUL byte`);
    }
    (m.options ?? []).forEach((opt, j) => {
      if (hasNul(opt)) throw new Error(`${at}.options[${j}]: contains a NUL byte`);
    });
    const o = parseMountOptions(m.options);
    const bind = isBind(o, m.type);
    checkData(m, `${at}.options`, o.data, bind);
    if (o.tmpcopyup && (bind || m.type !== 'tmpfs')) throw new Error(`${at}.options: "tmpcopyup" applies only to tmpfs mounts`);
    idmapSource(spec, i);
  }
  const prop = spec.linux?.rootfsPropagation;
  if (noPivot && (prop === 'private' || prop === 'rprivate')) {
    throw new Error(`linux.rootfsPropagation: ${prop} is not safe without pivot_root (--no-pivot)`);
  }
}

// Detached id-mapped trees, one per id-mapped mount, under the names launch() passes to the init.
export interface IdmappedMounts {
  fds: Record<string, number>;
  // The fd numbers the init received, by mount index, from launch()'s fd map.
  inChild(launched: Record<string, number>): Record<string, number>;
  close(): void;
}

const fdName = (i: number) => `mount${i}`;

// open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) need CAP_SYS_ADMIN over the source's
// superblock, which a user-namespaced init never has; so, as runc 1.2 does, the runtime makes them
// and the init only move_mount()s them. A detached tree vanishes with its last fd: nothing to undo.
export function prepareIdmappedMounts(spec: Spec, bundle: string): IdmappedMounts {
  const fds: Record<string, number> = {};
  const namespaces = new Map<string, number>();
  const closeAll = () => {
    for (const [k, fd] of Object.entries(fds)) {
      fs.closeSync(fd);
      delete fds[k];
    }
  };
  try {
    for (const [i, m] of (spec.mounts ?? []).entries()) {
      const src = idmapSource(spec, i);
      if (!src) continue;
      const at = `mounts[${i}]`;
      const o = parseMountOptions(m.options);
      const key = JSON.stringify(src);
      let ns = namespaces.get(key);
      if (ns === undefined) {
        try {
          ns = 'usernsPath' in src
            ? fs.openSync(src.usernsPath, fs.constants.O_RDONLY | C.O_CLOEXEC)
            : userNamespaceFd(src.uidMappings, src.gidMappings);
        } catch (e) {
          throw new Error(`${at}: cannot make a user namespace for the id mapping: ${(e as Error).message}`);
        }
        namespaces.set(key, ns);
      }
      const source = path.resolve(bundle, m.source ?? '');
      let tree: number;
      try {
        tree = libc().openTree(C.AT_FDCWD, source, C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | (o.flags & C.MS_REC ? C.AT_RECURSIVE : 0));
      } catch (e) {
        throw new Error(`${at}: bind source ${source}: ${(e as Error).message}`);
      }
      fds[fdName(i)] = tree;
      try {
        const flags = C.AT_EMPTY_PATH | (o.idmap?.recursive ? C.AT_RECURSIVE : 0);
        libc().mountSetattr(tree, '', flags, BigInt(C.MOUNT_ATTR.IDMAP), 0n, ns);
      } catch (e) {
        const hint = isErrno(e, 'EINVAL') ? ' (does the filesystem of the source support id-mapped mounts?)' : '';
        throw new Error(`${at}: id-mapping ${source}: ${(e as Error).message}${hint}`);
      }
    }
  } catch (e) {
    closeAll();
    throw e;
  } finally {
    for (const fd of namespaces.values()) fs.closeSync(fd);
  }
  return {
    fds,
    inChild: (launched) =>
      Object.fromEntries(Object.keys(fds).map((k) => [k.slice('mount'.length), launched[k]])),
    close: closeAll,
  };
}
