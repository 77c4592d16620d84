// Tests for the host-side mount checks (src/container/mounts.ts): the rule that tells filesystem data
// from unknown options (with the kernel's fsconfig() answer faked through setLibc), runc 1.2's
// id-mapping rules, and every error naming its JSON path.
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkMounts, idmapSource } from '../../src/container/mounts';
import { setLibc, type Libc } from '../../src/linux/libc';
import { SysError } from '../../src/linux/errors';
import type { Mount, Spec } from '../../src/oci';

const EINVAL = 22;
const EPERM = 1;

// The kernel's flag parsers, as fsopen()/fsconfig(FSCONFIG_SET_FLAG) would answer; undefined: no fsopen.
let flagsOf: Record<string, string[]> | undefined;
const asked: [string, string][] = [];

function fakeKernel(): Libc {
  let type = '';
  return new Proxy({} as Libc, {
    get(_, name: string) {
      if (name === 'fsopen') {
        return (t: string) => {
          if (flagsOf === undefined) throw new SysError('fsopen', EPERM, t);
          if (!(t in flagsOf)) throw new SysError('fsopen', 19 /* ENODEV */, t);
          type = t;
          return fs.openSync('/dev/null', 'r');
        };
      }
      if (name === 'fsconfig') {
        return (_fd: number, _cmd: number, key: string) => {
          asked.push([type, key]);
          if (!flagsOf![type].includes(key)) throw new SysError('fsconfig', EINVAL, key);
        };
      }
      throw new Error(`unexpected kernel call ${name}`);
    },
  });
}

const spec = (mounts: Mount[], linux: Spec['linux'] = { namespaces: [{ type: 'mount' }] }): Spec => ({ ociVersion: '1.2.0', mounts, linux });
const tmpfs = (...options: string[]): Mount => ({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options });
const bind = (...options: string[]): Mount => ({ destination: '/m', type: 'bind', source: '/src', options });
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

beforeEach(() => {
  flagsOf = { tmpfs: ['noswap', 'quota'], devpts: ['newinstance'], ext4: ['acl', 'noacl'] };
  asked.length = 0;
  setLibc(fakeKernel());
  vi.spyOn(process, 'geteuid').mockReturnValue(0);
});
afterEach(() => {
  setLibc(undefined);
  vi.restoreAllMocks();
});

describe('checkMounts: filesystem data or unknown option', () => {
  it('passes key=value data through without asking the kernel', () => {
    expect(() => checkMounts(spec([tmpfs('mode=755', 'size=65536k', 'context="x"', 'lowerdir=/a:/b')]), false)).not.toThrow();
    expect(asked).toEqual([]);
  });

  it('asks the filesystem about a bare word and accepts what it takes as a flag', () => {
    expect(() => checkMounts(spec([{ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'newinstance'] }]), false)).not.toThrow();
    expect(asked).toEqual([['devpts', 'newinstance']]);
  });

  it('refuses a bare word the filesystem does not take, naming the JSON path', () => {
    const s = spec([tmpfs('nosuid'), tmpfs('nosuid', 'bogus')]);
    expect(() => checkMounts(s, false)).toThrow('mounts[1].options: unknown option "bogus" (not a mount flag, and tmpfs does not take it)');
    // A well-known word is no excuse when the kernel says no: ext4's "acl" is not tmpfs's.
    expect(() => checkMounts(spec([tmpfs('acl')]), false)).toThrow('mounts[0].options: unknown option "acl"');
    expect(() => checkMounts(spec([{ destination: '/m', type: 'ext4', source: '/dev/x', options: ['acl'] }]), false)).not.toThrow();
  });

  it('never asks the kernel about the runc table, the extensions or "defaults"', () => {
    checkMounts(spec([tmpfs('ro', 'nosuid', 'rro', 'rshared', 'defaults', 'tmpcopyup', 'strictatime')]), false);
    expect(asked).toEqual([]);
  });

  it('falls back to the well-known list when the kernel cannot be asked (no fsopen, unknown type, no type)', () => {
    flagsOf = undefined;
    expect(() => checkMounts(spec([tmpfs('newinstance', 'acl')]), false)).not.toThrow();
    expect(() => checkMounts(spec([tmpfs('bogus')]), false)).toThrow('mounts[0].options: unknown option "bogus"');
    flagsOf = {};
    expect(() => checkMounts(spec([{ destination: '/m', type: 'fuse.x', source: 'x', options: ['allow_other'] }]), false)).not.toThrow();
    expect(() => checkMounts(spec([{ destination: '/m', source: 'x', options: ['nouuid'] }]), false)).not.toThrow();
    expect(() => checkMounts(spec([{ destination: '/m', source: 'x', options: ['noauto'] }]), false)).toThrow('mounts[0].options: unknown option "noauto"');
  });

  it('refuses any filesystem data on a bind mount, however it is spelled', () => {
    expect(() => checkMounts(spec([bind('rbind', 'mode=755')]), false)).toThrow('mounts[0].options: "mode=755" is filesystem data, which a bind mount cannot take');
    expect(() => checkMounts(spec([bind('rbind', 'newinstance')]), false)).toThrow('mounts[0].options: unknown option "newinstance"');
    expect(() => checkMounts(spec([{ destination: '/m', type: 'none', source: '/s', options: ['rbind', 'x=1'] }]), false)).toThrow('filesystem data');
    expect(asked).toEqual([]);
  });

  it('refuses tmpcopyup anywhere but on a tmpfs', () => {
    expect(() => checkMounts(spec([bind('rbind', 'tmpcopyup')]), false)).toThrow('mounts[0].options: "tmpcopyup" applies only to tmpfs mounts');
    expect(() => checkMounts(spec([{ destination: '/m', type: 'proc', source: 'proc', options: ['tmpcopyup'] }]), false)).toThrow('"tmpcopyup" applies only');
    expect(() => checkMounts(spec([tmpfs('tmpcopyup')]), false)).not.toThrow();
  });

  it('refuses NUL bytes, which would silently cut a path short on the way to the kernel', () => {
    expect(() => checkMounts(spec([{ destination: '/m\0x', type: 'tmpfs' }]), false)).toThrow('mounts[0].destination: contains a NUL byte');
    expect(() => checkMounts(spec([{ ...bind('rbind'), source: '/a\0b' }]), false)).toThrow('mounts[0].source: contains a NUL byte');
    expect(() => checkMounts(spec([tmpfs('size=1m', 'a\0')]), false)).toThrow('mounts[0].options[1]: contains a NUL byte');
  });

  it('refuses a private rootfsPropagation with --no-pivot only', () => {
    for (const p of ['private', 'rprivate'] as const) {
      const s = spec([], { namespaces: [{ type: 'mount' }], rootfsPropagation: p });
      expect(() => checkMounts(s, true)).toThrow(`linux.rootfsPropagation: ${p} is not safe without pivot_root`);
      expect(() => checkMounts(s, false)).not.toThrow();
    }
    expect(() => checkMounts(spec([], { rootfsPropagation: 'rslave' }), true)).not.toThrow();
  });
});

describe('idmapSource: runc 1.2 id-mapped mount rules', () => {
  const userns = (extra: Partial<NonNullable<Spec['linux']>> = {}): Spec['linux'] => ({
    namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAP, gidMappings: MAP, ...extra,
  });

  it('is not id-mapped without idmap/ridmap or mappings', () => {
    expect(idmapSource(spec([bind('rbind')]), 0)).toBeUndefined();
    expect(idmapSource(spec([{ ...bind('rbind'), uidMappings: [], gidMappings: [] }]), 0)).toBeUndefined();
  });

  it('uses the mount\'s own mappings, with or without the option and whatever the container has', () => {
    const own = [{ containerID: 0, hostID: 5000, size: 10 }];
    const m = { ...bind('bind'), uidMappings: own, gidMappings: MAP };
    expect(idmapSource(spec([m]), 0)).toEqual({ uidMappings: own, gidMappings: MAP });
    expect(idmapSource(spec([{ ...m, options: ['rbind', 'ridmap'] }], userns()), 0)).toEqual({ uidMappings: own, gidMappings: MAP });
  });

  it('takes the container\'s mappings, or the joined user namespace, when the mount has none', () => {
    expect(idmapSource(spec([bind('bind', 'idmap')], userns()), 0)).toEqual({ uidMappings: MAP, gidMappings: MAP });
    const joined = spec([bind('bind', 'ridmap')], { namespaces: [{ type: 'user', path: '/proc/42/ns/user' }] });
    expect(idmapSource(joined, 0)).toEqual({ usernsPath: '/proc/42/ns/user' });
  });

  it('refuses idmap with nothing to map from, one-sided mappings, and non-bind mounts', () => {
    expect(() => idmapSource(spec([bind('bind', 'idmap')]), 0)).toThrow('mounts[0]: id-mapped mounts need uidMappings and gidMappings, or a user namespace');
    expect(() => idmapSource(spec([{ ...bind('bind'), uidMappings: MAP }]), 0)).toThrow('mounts[0]: id-mapped mounts need both uidMappings and gidMappings');
    expect(() => idmapSource(spec([{ ...bind('bind', 'idmap'), gidMappings: MAP }], userns()), 0)).toThrow('need both');
    expect(() => idmapSource(spec([tmpfs('idmap')], userns()), 0)).toThrow('mounts[0]: id-mapped mounts are only supported for bind mounts');
    expect(() => idmapSource(spec([{ ...tmpfs(), uidMappings: MAP, gidMappings: MAP }]), 0)).toThrow('only supported for bind mounts');
  });

  it('refuses id-mapped mounts to a runtime that is not root, as runc does for rootless', () => {
    vi.spyOn(process, 'geteuid').mockReturnValue(1000);
    expect(() => idmapSource(spec([bind('bind', 'idmap')], userns()), 0)).toThrow('mounts[0]: id-mapped mounts need a runtime running as root');
  });

  it('is checked by checkMounts for every mount', () => {
    expect(() => checkMounts(spec([bind('rbind'), bind('bind', 'idmap')]), false)).toThrow('mounts[1]: id-mapped mounts need');
  });
});
