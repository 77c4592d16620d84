// Translation of OCI mount options into mount(2) flags, propagation changes and filesystem data,
// with the same option table runc accepts. Pure: unit-tested without root.
import * as C from '../linux/constants';

export interface MountOptions {
  flags: number;
  // Propagation changes applied after the mount, in order.
  propagation: number[];
  // Recursive attributes for mount_setattr (rro, rnosuid, ...): [set, clear].
  recAttrSet: number;
  recAttrClr: number;
  data: string[];
  extensions: string[];
}

const SET: Record<string, number> = {
  bind: C.MS_BIND, rbind: C.MS_BIND | C.MS_REC, dirsync: C.MS_DIRSYNC, iversion: 1 << 23, lazytime: C.MS_LAZYTIME,
  mand: C.MS_MANDLOCK, noatime: C.MS_NOATIME, nodev: C.MS_NODEV, nodiratime: C.MS_NODIRATIME, noexec: C.MS_NOEXEC,
  nosuid: C.MS_NOSUID, nosymfollow: C.MS_NOSYMFOLLOW, relatime: C.MS_RELATIME, remount: C.MS_REMOUNT, ro: C.MS_RDONLY,
  silent: C.MS_SILENT, acl: C.MS_POSIXACL, strictatime: C.MS_STRICTATIME, sync: C.MS_SYNCHRONOUS, defaults: 0,
};
const CLEAR: Record<string, number> = {
  async: C.MS_SYNCHRONOUS, atime: C.MS_NOATIME, dev: C.MS_NODEV, diratime: C.MS_NODIRATIME, exec: C.MS_NOEXEC,
  loud: C.MS_SILENT, noacl: C.MS_POSIXACL, noiversion: 1 << 23, nolazytime: C.MS_LAZYTIME, nomand: C.MS_MANDLOCK, norelatime: C.MS_RELATIME,
  nostrictatime: C.MS_STRICTATIME, rw: C.MS_RDONLY, suid: C.MS_NOSUID, nosymfollow: 0, symfollow: C.MS_NOSYMFOLLOW,
};
const PROPAGATION: Record<string, number> = {
  private: C.MS_PRIVATE, rprivate: C.MS_PRIVATE | C.MS_REC, shared: C.MS_SHARED, rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE, rslave: C.MS_SLAVE | C.MS_REC, unbindable: C.MS_UNBINDABLE, runbindable: C.MS_UNBINDABLE | C.MS_REC,
};
// MOUNT_ATTR_* values for mount_setattr(AT_RECURSIVE).
const A = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 };
const ATIME_MASK = 0x70;
const REC: Record<string, [number, number]> = {
  rro: [A.RDONLY, 0], rrw: [0, A.RDONLY], rnosuid: [A.NOSUID, 0], rsuid: [0, A.NOSUID], rnodev: [A.NODEV, 0],
  rdev: [0, A.NODEV], rnoexec: [A.NOEXEC, 0], rexec: [0, A.NOEXEC], rnodiratime: [A.NODIRATIME, 0],
  rdiratime: [0, A.NODIRATIME], rrelatime: [A.RELATIME, ATIME_MASK], rnorelatime: [0, ATIME_MASK],
  rnoatime: [A.NOATIME, ATIME_MASK], ratime: [0, ATIME_MASK], rstrictatime: [A.STRICTATIME, ATIME_MASK],
  rnostrictatime: [0, ATIME_MASK], rnosymfollow: [A.NOSYMFOLLOW, 0], rsymfollow: [0, A.NOSYMFOLLOW],
};
const EXTENSIONS = new Set(['tmpcopyup', 'idmap', 'ridmap']);

export function parseMountOptions(options: string[] = []): MountOptions {
  const o: MountOptions = { flags: 0, propagation: [], recAttrSet: 0, recAttrClr: 0, data: [], extensions: [] };
  for (const opt of options) {
    if (Object.hasOwn(SET, opt)) o.flags |= SET[opt];
    else if (Object.hasOwn(CLEAR, opt)) o.flags &= ~CLEAR[opt];
    else if (Object.hasOwn(PROPAGATION, opt)) o.propagation.push(PROPAGATION[opt]);
    else if (Object.hasOwn(REC, opt)) {
      const [set, clr] = REC[opt];
      o.recAttrClr |= clr;
      o.recAttrSet = (o.recAttrSet & ~clr) | set;
    } else if (EXTENSIONS.has(opt)) o.extensions.push(opt);
    else o.data.push(opt);
  }
  return o;
}

export function isBind(o: MountOptions): boolean {
  return (o.flags & C.MS_BIND) !== 0;
}

// statfs reports per-mount flags as ST_*; turn the ones a bind remount must keep into MS_*.
export function lockedFlagsFromStatfs(st: number): number {
  let f = 0;
  if (st & C.ST_NOSUID) f |= C.MS_NOSUID;
  if (st & C.ST_NODEV) f |= C.MS_NODEV;
  if (st & C.ST_NOEXEC) f |= C.MS_NOEXEC;
  if (st & C.ST_NOATIME) f |= C.MS_NOATIME;
  if (st & C.ST_NODIRATIME) f |= C.MS_NODIRATIME;
  if (st & C.ST_RELATIME) f |= C.MS_RELATIME;
  if (st & C.ST_RDONLY) f |= C.MS_RDONLY;
  return f;
}
