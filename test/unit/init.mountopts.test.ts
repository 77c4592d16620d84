// Tests for parseMountOptions/lockedFlagsFromStatfs (src/init/mountopts.ts): runc's mount option table,
// checked against the kernel's documented numeric values rather than the module's own constants.
import { describe, expect, it } from 'vitest';
import {
  isBind, isKeyValue, isWellKnownDataFlag, lockedFlagsFromStatfs, parseMountOptions, remountRetryFlags, statfsMountFlags,
} from '../../src/init/mountopts';
import * as C from '../../src/linux/constants';

// <linux/mount.h> / <sys/mount.h> values, written out so a wrong constant in src/ cannot hide itself.
const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, SILENT: 32768,
  POSIXACL: 1 << 16, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, I_VERSION: 1 << 23, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
};
const ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 };
const ST = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, MANDLOCK: 64, NOATIME: 1024, NODIRATIME: 2048, RELATIME: 4096, NOSYMFOLLOW: 8192 };

const flags = (...o: string[]) => parseMountOptions(o).flags;

describe('the constants module agrees with the kernel', () => {
  it('has the MS_* and ST_* values from the kernel headers', () => {
    expect([C.MS_RDONLY, C.MS_NOSUID, C.MS_NODEV, C.MS_NOEXEC, C.MS_SYNCHRONOUS, C.MS_REMOUNT, C.MS_MANDLOCK, C.MS_DIRSYNC])
      .toEqual([MS.RDONLY, MS.NOSUID, MS.NODEV, MS.NOEXEC, MS.SYNCHRONOUS, MS.REMOUNT, MS.MANDLOCK, MS.DIRSYNC]);
    expect([C.MS_NOSYMFOLLOW, C.MS_NOATIME, C.MS_NODIRATIME, C.MS_BIND, C.MS_REC, C.MS_SILENT])
      .toEqual([MS.NOSYMFOLLOW, MS.NOATIME, MS.NODIRATIME, MS.BIND, MS.REC, MS.SILENT]);
    expect([C.MS_UNBINDABLE, C.MS_PRIVATE, C.MS_SLAVE, C.MS_SHARED, C.MS_RELATIME, C.MS_STRICTATIME, C.MS_LAZYTIME])
      .toEqual([MS.UNBINDABLE, MS.PRIVATE, MS.SLAVE, MS.SHARED, MS.RELATIME, MS.STRICTATIME, MS.LAZYTIME]);
    expect([C.ST_RDONLY, C.ST_NOSUID, C.ST_NODEV, C.ST_NOEXEC, C.ST_NOATIME, C.ST_NODIRATIME, C.ST_RELATIME])
      .toEqual([ST.RDONLY, ST.NOSUID, ST.NODEV, ST.NOEXEC, ST.NOATIME, ST.NODIRATIME, ST.RELATIME]);
  });
});

describe('parseMountOptions: plain flags', () => {
  it('returns an empty result for no options', () => {
    const empty = { flags: 0, cleared: 0, propagation: [], recAttrSet: 0, recAttrClr: 0, data: [], tmpcopyup: false };
    expect(parseMountOptions()).toEqual(empty);
    expect(parseMountOptions([])).toEqual(empty);
  });

  it.each([
    ['ro', MS.RDONLY], ['nosuid', MS.NOSUID], ['nodev', MS.NODEV], ['noexec', MS.NOEXEC],
    ['sync', MS.SYNCHRONOUS], ['remount', MS.REMOUNT], ['mand', MS.MANDLOCK], ['dirsync', MS.DIRSYNC],
    ['nosymfollow', MS.NOSYMFOLLOW], ['noatime', MS.NOATIME], ['nodiratime', MS.NODIRATIME],
    ['bind', MS.BIND], ['rbind', MS.BIND | MS.REC], ['silent', MS.SILENT], ['relatime', MS.RELATIME],
    ['iversion', MS.I_VERSION], ['strictatime', MS.STRICTATIME], ['lazytime', MS.LAZYTIME],
  ])('%s sets %i', (opt, want) => {
    const o = parseMountOptions([opt]);
    expect(o.flags).toBe(want);
    expect(o.data).toEqual([]);
  });

  it.each([
    ['ro', 'rw', MS.RDONLY], ['nosuid', 'suid', MS.NOSUID], ['nodev', 'dev', MS.NODEV], ['noexec', 'exec', MS.NOEXEC],
    ['sync', 'async', MS.SYNCHRONOUS], ['mand', 'nomand', MS.MANDLOCK], ['noatime', 'atime', MS.NOATIME],
    ['nodiratime', 'diratime', MS.NODIRATIME], ['relatime', 'norelatime', MS.RELATIME],
    ['strictatime', 'nostrictatime', MS.STRICTATIME], ['silent', 'loud', MS.SILENT],
    ['lazytime', 'nolazytime', MS.LAZYTIME], ['iversion', 'noiversion', MS.I_VERSION], ['nosymfollow', 'symfollow', MS.NOSYMFOLLOW],
  ])('%s then %s clears the flag, and the reverse order keeps it', (set, clear, bit) => {
    // Options apply left to right, so the later one wins; the other flags set alongside must survive.
    expect(flags(set, clear)).toBe(0);
    expect(flags('remount', set, clear)).toBe(MS.REMOUNT);
    expect(flags(clear, set)).toBe(bit);
  });

  it('ORs the usual combination into the kernel values', () => {
    expect(flags('nosuid', 'noexec', 'nodev', 'ro')).toBe(1 | 2 | 4 | 8);
    expect(flags('rbind', 'ro', 'nosuid')).toBe(0x1000 | 0x4000 | 1 | 2);
  });

  it('treats "defaults" as no flag and not as filesystem data', () => {
    const o = parseMountOptions(['defaults']);
    expect(o.flags).toBe(0);
    expect(o.data).toEqual([]);
  });

  it('keeps MS_REC from rbind when plain bind follows', () => {
    expect(flags('rbind', 'bind')).toBe(MS.BIND | MS.REC);
  });

  it('isBind is true for bind and rbind, and for type "bind" whatever the options', () => {
    expect(isBind(parseMountOptions(['bind']))).toBe(true);
    expect(isBind(parseMountOptions(['rbind']))).toBe(true);
    expect(isBind(parseMountOptions(['ro', 'rprivate', 'remount']))).toBe(false);
    expect(isBind(parseMountOptions(['ro']), 'bind')).toBe(true);
    expect(isBind(parseMountOptions([]), 'tmpfs')).toBe(false);
  });

  // runc 1.1 mapped "acl"/"noacl" to MS_POSIXACL, which the kernel ignores on mount(2) since 5.8; runc 1.2
  // dropped the mapping (runc#3738, PR #3739) so they reach the filesystem (ext4 takes them; tmpfs refuses).
  it('passes acl/noacl to the filesystem as data, like runc 1.2+', () => {
    expect(parseMountOptions(['acl'])).toMatchObject({ flags: 0, data: ['acl'] });
    expect(parseMountOptions(['acl', 'noacl'])).toMatchObject({ flags: 0, data: ['acl', 'noacl'] });
    expect(flags('acl') & MS.POSIXACL).toBe(0);
  });

  // runc's ClearedFlags: a bind mount is remounted when an option cleared a flag, even if none is set.
  it('records flags that an option cleared, and forgets them when a later option sets them again', () => {
    expect(parseMountOptions(['suid', 'dev'])).toMatchObject({ flags: 0, cleared: MS.NOSUID | MS.NODEV });
    expect(parseMountOptions(['rw', 'ro'])).toMatchObject({ flags: MS.RDONLY, cleared: 0 });
    expect(parseMountOptions(['ro', 'rw'])).toMatchObject({ flags: 0, cleared: MS.RDONLY });
    expect(parseMountOptions(['nosuid'])).toMatchObject({ cleared: 0 });
  });
});

describe('parseMountOptions: propagation', () => {
  it.each([
    ['private', MS.PRIVATE], ['rprivate', MS.PRIVATE | MS.REC], ['shared', MS.SHARED], ['rshared', MS.SHARED | MS.REC],
    ['slave', MS.SLAVE], ['rslave', MS.SLAVE | MS.REC], ['unbindable', MS.UNBINDABLE], ['runbindable', MS.UNBINDABLE | MS.REC],
  ])('%s is a propagation change, not a mount flag', (opt, want) => {
    const o = parseMountOptions([opt]);
    expect(o.propagation).toEqual([want]);
    expect(o.flags).toBe(0);
  });

  it('keeps every propagation change in the given order, duplicates included', () => {
    const o = parseMountOptions(['rslave', 'ro', 'shared', 'rprivate', 'shared']);
    expect(o.propagation).toEqual([MS.SLAVE | MS.REC, MS.SHARED, MS.PRIVATE | MS.REC, MS.SHARED]);
    expect(o.flags).toBe(MS.RDONLY);
  });
});

describe('parseMountOptions: recursive (mount_setattr) options', () => {
  const rec = (...o: string[]) => {
    const r = parseMountOptions(o);
    return [r.recAttrSet, r.recAttrClr];
  };

  it.each([
    ['rro', ATTR.RDONLY, 0], ['rrw', 0, ATTR.RDONLY], ['rnosuid', ATTR.NOSUID, 0], ['rsuid', 0, ATTR.NOSUID],
    ['rnodev', ATTR.NODEV, 0], ['rdev', 0, ATTR.NODEV], ['rnoexec', ATTR.NOEXEC, 0], ['rexec', 0, ATTR.NOEXEC],
    ['rnodiratime', ATTR.NODIRATIME, 0], ['rdiratime', 0, ATTR.NODIRATIME],
    ['rnosymfollow', ATTR.NOSYMFOLLOW, 0], ['rsymfollow', 0, ATTR.NOSYMFOLLOW],
  ])('%s gives attr_set %i, attr_clr %i', (opt, set, clr) => {
    expect(rec(opt)).toEqual([set, clr]);
    // They are applied with mount_setattr, never through mount(2) flags or data.
    const o = parseMountOptions([opt]);
    expect([o.flags, o.data, o.propagation]).toEqual([0, [], []]);
  });

  // The atime settings are an enum inside MOUNT_ATTR__ATIME: the kernel wants the whole mask in
  // attr_clr whenever it changes (and EINVALs a partial one), with the new value in attr_set.
  it.each([
    ['rnoatime', ATTR.NOATIME], ['rstrictatime', ATTR.STRICTATIME], ['rrelatime', ATTR.RELATIME],
    ['ratime', ATTR.RELATIME], ['rnorelatime', ATTR.RELATIME], ['rnostrictatime', ATTR.RELATIME],
  ])('%s clears the whole atime mask and sets %i', (opt, set) => {
    expect(rec(opt)).toEqual([set, ATTR.ATIME_MASK]);
  });

  it('lets a later atime option replace an earlier one instead of ORing enum values', () => {
    expect(rec('rnoatime', 'rstrictatime')).toEqual([ATTR.STRICTATIME, ATTR.ATIME_MASK]);
    expect(rec('rnoatime', 'ratime')).toEqual([0, ATTR.ATIME_MASK]);
  });

  it('keeps non-atime bits when an atime option follows', () => {
    expect(rec('rro', 'rnosuid', 'rnoatime')).toEqual([ATTR.RDONLY | ATTR.NOSUID | ATTR.NOATIME, ATTR.ATIME_MASK]);
    expect(rec('rnoatime', 'rnodiratime')).toEqual([ATTR.NOATIME | ATTR.NODIRATIME, ATTR.ATIME_MASK]);
  });

  it('makes the later of rro/rrw win, as runc does (the earlier bit leaves the other set)', () => {
    expect(rec('rro', 'rrw')).toEqual([0, ATTR.RDONLY]);
    expect(rec('rrw', 'rro')).toEqual([ATTR.RDONLY, 0]);
    expect(rec('rnosuid', 'rsuid', 'rnosuid')).toEqual([ATTR.NOSUID, 0]);
  });

  it('combines the usual hardened set', () => {
    expect(rec('rro', 'rnosuid', 'rnodev', 'rnoexec')).toEqual([0xf, 0]);
  });

  it('does not confuse recursive options with their plain forms', () => {
    const o = parseMountOptions(['rro', 'ro']);
    expect(o.flags).toBe(MS.RDONLY);
    expect(o.recAttrSet).toBe(ATTR.RDONLY);
  });
});

describe('parseMountOptions: extensions and data', () => {
  it('recognises tmpcopyup, idmap and ridmap without turning them into flags or data', () => {
    const o = parseMountOptions(['tmpcopyup', 'idmap']);
    expect(o).toMatchObject({ tmpcopyup: true, idmap: { recursive: false }, data: [], flags: 0 });
    expect(parseMountOptions(['ridmap']).idmap).toEqual({ recursive: true });
    expect(parseMountOptions(['nosuid']).idmap).toBeUndefined();
    expect(parseMountOptions(['nosuid']).tmpcopyup).toBe(false);
  });

  it('lets the later of idmap/ridmap win, as runc does', () => {
    expect(parseMountOptions(['ridmap', 'idmap']).idmap).toEqual({ recursive: false });
    expect(parseMountOptions(['idmap', 'ridmap']).idmap).toEqual({ recursive: true });
  });

  it('keeps options in none of the tables as data, in order, between known ones', () => {
    const o = parseMountOptions(['nosuid', 'mode=755', 'ro', 'size=65536k', 'strictatime', 'uid=0', 'newinstance', 'bogus']);
    expect(o.data).toEqual(['mode=755', 'size=65536k', 'uid=0', 'newinstance', 'bogus']);
    expect(o.flags).toBe(MS.NOSUID | MS.RDONLY | MS.STRICTATIME);
  });

  it('is case-sensitive like runc: "RO" is data', () => {
    const o = parseMountOptions(['RO']);
    expect(o.flags).toBe(0);
    expect(o.data).toEqual(['RO']);
  });

  // Regression (was a bug): the option tables are looked up with `opt in TABLE`, which also matches Object.prototype
  // members, so these are silently swallowed (OR-ing a function into flags) instead of reaching the
  // filesystem as data. Harmless for real option names, but Object.hasOwn would be exact.
  it('does not treat names inherited from Object.prototype as options', () => {
    const o = parseMountOptions(['constructor', 'toString', '__proto__']);
    expect(o.flags).toBe(0);
    expect(o.data).toEqual(['constructor', 'toString', '__proto__']);
  });
});

describe('data classification helpers', () => {
  it('treats key=value options as data whatever the key', () => {
    for (const opt of ['mode=755', 'size=65536k', 'ptmxmode=0666', 'gid=5', 'context="system_u:object_r:x:s0"', 'lowerdir=/a:/b']) {
      expect(isKeyValue(opt), opt).toBe(true);
    }
    expect(isKeyValue('newinstance')).toBe(false);
  });

  it('knows the common flag-like filesystem words, and not made-up ones or runc table entries', () => {
    for (const w of ['newinstance', 'acl', 'noacl', 'user_xattr', 'nsdelegate', 'userxattr', 'inode64']) expect(isWellKnownDataFlag(w), w).toBe(true);
    for (const w of ['bogus', 'ro', 'bind', 'tmpcopyup', 'idmap', 'auto', 'noauto', '_netdev', 'x-systemd.automount', 'constructor']) {
      expect(isWellKnownDataFlag(w), w).toBe(false);
    }
  });
});

describe('statfsMountFlags and remountRetryFlags (runc 1.2 bind remount)', () => {
  it('reads the per-mount flags back, and strictatime when neither noatime nor relatime is set', () => {
    expect(statfsMountFlags(ST.RDONLY | ST.NOSUID | ST.RELATIME)).toBe(MS.RDONLY | MS.NOSUID | MS.RELATIME);
    expect(statfsMountFlags(ST.NOATIME | ST.NODEV)).toBe(MS.NOATIME | MS.NODEV);
    expect(statfsMountFlags(0)).toBe(MS.STRICTATIME);
    expect(statfsMountFlags(ST.SYNCHRONOUS | ST.MANDLOCK | ST.NOSYMFOLLOW | ST.RELATIME)).toBe(MS.SYNCHRONOUS | MS.MANDLOCK | MS.NOSYMFOLLOW | MS.RELATIME);
  });

  it('retries with the locked source flags added to the requested ones', () => {
    const src = MS.NOSUID | MS.NODEV | MS.RELATIME;
    expect(remountRetryFlags(parseMountOptions(['bind', 'ro']), src)).toBe(MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.RELATIME);
  });

  it('gives up when a cleared flag is locked on the source', () => {
    expect(remountRetryFlags(parseMountOptions(['bind', 'suid']), MS.NOSUID | MS.RELATIME)).toBeUndefined();
    expect(remountRetryFlags(parseMountOptions(['bind', 'rw']), MS.RDONLY | MS.RELATIME)).toBeUndefined();
  });

  it('gives up when another atime setting is asked than the locked one', () => {
    expect(remountRetryFlags(parseMountOptions(['bind', 'noatime']), MS.RELATIME)).toBeUndefined();
    expect(remountRetryFlags(parseMountOptions(['bind', 'relatime']), MS.RELATIME)).toBe(MS.BIND | MS.RELATIME);
  });
});

describe('lockedFlagsFromStatfs', () => {
  it('is zero for a plain rw mount', () => {
    expect(lockedFlagsFromStatfs(0)).toBe(0);
  });

  it.each([
    [ST.RDONLY, MS.RDONLY], [ST.NOSUID, MS.NOSUID], [ST.NODEV, MS.NODEV], [ST.NOEXEC, MS.NOEXEC],
    [ST.NOATIME, MS.NOATIME], [ST.NODIRATIME, MS.NODIRATIME], [ST.RELATIME, MS.RELATIME],
  ])('turns ST %i into MS %i', (st, ms) => {
    expect(lockedFlagsFromStatfs(st)).toBe(ms);
  });

  it('translates a typical locked /proc-like mount', () => {
    const st = ST.NOSUID | ST.NODEV | ST.NOEXEC | ST.RELATIME;
    expect(lockedFlagsFromStatfs(st)).toBe(MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  });

  it('drops the ST_* flags that are not locked on a bind remount', () => {
    expect(lockedFlagsFromStatfs(ST.SYNCHRONOUS | ST.MANDLOCK | ST.NOSYMFOLLOW)).toBe(0);
    expect(lockedFlagsFromStatfs(ST.RDONLY | ST.SYNCHRONOUS)).toBe(MS.RDONLY);
  });
});
