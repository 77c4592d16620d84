// Translation of OCI mount options into mount(2) flags, propagation changes, mount_setattr attributes
// and filesystem data, with runc 1.3's option table. Pure: unit-tested without root.
import * as C from '../linux/constants';

export interface MountOptions {
  // MS_* flags set, and those an option explicitly cleared (runc's ClearedFlags): a bind mount is
  // remounted when either is non-empty.
  flags: number;
  cleared: number;
  // Propagation changes applied after the mount, in order.
  propagation: number[];
  // Recursive attributes for mount_setattr(AT_RECURSIVE) (rro, rnosuid, ...).
  recAttrSet: number;
  recAttrClr: number;
  // Options in none of the tables, in order: filesystem data, or unknown (see validateMountData).
  data: string[];
  tmpcopyup: boolean;
  // "idmap" / "ridmap": the last one wins, as in runc.
  idmap?: { recursive: boolean };
}

const SET: Record<string, number> = {
  bind: C.MS_BIND, rbind: C.MS_BIND | C.MS_REC, dirsync: C.MS_DIRSYNC, iversion: C.MS_I_VERSION, lazytime: C.MS_LAZYTIME,
  mand: C.MS_MANDLOCK, noatime: C.MS_NOATIME, nodev: C.MS_NODEV, nodiratime: C.MS_NODIRATIME, noexec: C.MS_NOEXEC,
  nosuid: C.MS_NOSUID, nosymfollow: C.MS_NOSYMFOLLOW, relatime: C.MS_RELATIME, remount: C.MS_REMOUNT, ro: C.MS_RDONLY,
  silent: C.MS_SILENT, strictatime: C.MS_STRICTATIME, sync: C.MS_SYNCHRONOUS,
};
// "acl"/"noacl" are absent on purpose: runc 1.2 dropped their MS_POSIXACL mapping (the kernel ignores
// MS_POSIXACL since 5.8, runc#3738), so they are filesystem data like any other ext4 option.
const CLEAR: Record<string, number> = {
  async: C.MS_SYNCHRONOUS, atime: C.MS_NOATIME, dev: C.MS_NODEV, diratime: C.MS_NODIRATIME, exec: C.MS_NOEXEC,
  loud: C.MS_SILENT, noiversion: C.MS_I_VERSION, nolazytime: C.MS_LAZYTIME, nomand: C.MS_MANDLOCK, norelatime: C.MS_RELATIME,
  nostrictatime: C.MS_STRICTATIME, rw: C.MS_RDONLY, suid: C.MS_NOSUID, symfollow: C.MS_NOSYMFOLLOW,
};
// mount(8)'s "defaults" means "no flags". runc passes it to the filesystem as data, where tmpfs and most
// others reject it; we follow mount(8), which the spec refers to for option meanings.
const NOOP = new Set(['defaults']);
// Also the values of linux.rootfsPropagation (src/init/mounts.ts).
export const PROPAGATION: Record<string, number> = {
  private: C.MS_PRIVATE, rprivate: C.MS_PRIVATE | C.MS_REC, shared: C.MS_SHARED, rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE, rslave: C.MS_SLAVE | C.MS_REC, unbindable: C.MS_UNBINDABLE, runbindable: C.MS_UNBINDABLE | C.MS_REC,
};
const A = C.MOUNT_ATTR;
// The atime settings are an enum inside MOUNT_ATTR__ATIME: the kernel wants the whole mask in attr_clr
// whenever it changes (a partial mask is EINVAL), so every atime option replaces the setting.
const REC: Record<string, [number, number]> = {
  rro: [A.RDONLY, 0], rrw: [0, A.RDONLY], rnosuid: [A.NOSUID, 0], rsuid: [0, A.NOSUID], rnodev: [A.NODEV, 0],
  rdev: [0, A.NODEV], rnoexec: [A.NOEXEC, 0], rexec: [0, A.NOEXEC], rnodiratime: [A.NODIRATIME, 0],
  rdiratime: [0, A.NODIRATIME], rrelatime: [A.RELATIME, A.ATIME], rnorelatime: [A.RELATIME, A.ATIME],
  rnoatime: [A.NOATIME, A.ATIME], ratime: [A.RELATIME, A.ATIME], rstrictatime: [A.STRICTATIME, A.ATIME],
  rnostrictatime: [A.RELATIME, A.ATIME], rnosymfollow: [A.NOSYMFOLLOW, 0], rsymfollow: [0, A.NOSYMFOLLOW],
};

// Every option parseMountOptions gives a meaning to (none of them is passed on as filesystem data):
// what `ocirun features` lists as mountOptions, sorted as runc does.
export function knownMountOptions(): string[] {
  const names = [...Object.keys(SET), ...Object.keys(CLEAR), ...NOOP, ...Object.keys(PROPAGATION), ...Object.keys(REC)];
  return [...names, 'tmpcopyup', 'idmap', 'ridmap'].sort();
}

export function parseMountOptions(options: string[] = []): MountOptions {
  const o: MountOptions = { flags: 0, cleared: 0, propagation: [], recAttrSet: 0, recAttrClr: 0, data: [], tmpcopyup: false };
  for (const opt of options) {
    if (Object.hasOwn(SET, opt)) {
      o.flags |= SET[opt];
      o.cleared &= ~SET[opt];
    } else if (Object.hasOwn(CLEAR, opt)) {
      o.flags &= ~CLEAR[opt];
      o.cleared |= CLEAR[opt];
    } else if (NOOP.has(opt)) {
      continue;
    } else if (Object.hasOwn(PROPAGATION, opt)) {
      o.propagation.push(PROPAGATION[opt]);
    } else if (Object.hasOwn(REC, opt)) {
      const [set, clr] = REC[opt];
      const bits = set | clr;
      // A later option for the same attribute replaces the earlier one.
      o.recAttrSet = (o.recAttrSet & ~bits) | set;
      o.recAttrClr = (o.recAttrClr & ~bits) | clr;
    } else if (opt === 'tmpcopyup') {
      o.tmpcopyup = true;
    } else if (opt === 'idmap' || opt === 'ridmap') {
      o.idmap = { recursive: opt === 'ridmap' };
    } else {
      o.data.push(opt);
    }
  }
  return o;
}

// `type: "bind"` without a bind option is still a bind mount (runc fails it with ENODEV; crun and the
// spec's own examples treat it as one).
export function isBind(o: MountOptions, type?: string): boolean {
  return (o.flags & C.MS_BIND) !== 0 || type === 'bind';
}

// Flag-like words (no "=") that common filesystems take as data. Used only when the kernel cannot be
// asked (no type, or the runtime may not fsopen()); see validateMountData in src/container/mounts.ts.
const FS_FLAG_WORDS = new Set([
  // devpts, tmpfs
  'newinstance', 'noswap', 'inode32', 'inode64', 'quota', 'usrquota', 'grpquota', 'prjquota', 'noquota',
  // ext4, xfs, btrfs
  'acl', 'noacl', 'user_xattr', 'nouser_xattr', 'barrier', 'nobarrier', 'discard', 'nodiscard', 'delalloc',
  'nodelalloc', 'dax', 'noload', 'norecovery', 'journal_checksum', 'nojournal_checksum', 'grpid', 'bsdgroups',
  'nogrpid', 'sysvgroups', 'auto_da_alloc', 'noauto_da_alloc', 'init_itable', 'noinit_itable', 'block_validity',
  'noblock_validity', 'dioread_lock', 'dioread_nolock', 'nombcache', 'nouuid', 'noalign', 'wsync', 'largeio',
  'nolargeio', 'attr2', 'noattr2', 'filestreams', 'ikeep', 'noikeep', 'uquota', 'gquota', 'pquota', 'uqnoenforce',
  'gqnoenforce', 'pqnoenforce', 'qnoenforce', 'ssd', 'nossd', 'autodefrag', 'noautodefrag', 'nodatacow', 'datacow',
  'nodatasum', 'datasum', 'degraded', 'flushoncommit', 'noflushoncommit', 'user_subvol_rm_allowed', 'compress',
  // overlay, fuse, 9p/virtiofs
  'userxattr', 'volatile', 'allow_other', 'default_permissions', 'posixacl',
  // cgroup v1 controllers and options, cgroup2 options
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'blkio', 'perf_event', 'net_prio',
  'hugetlb', 'pids', 'rdma', 'misc', 'none', 'all', 'noprefix', 'xattr', 'cpuset_v2_mode', 'clone_children',
  'nsdelegate', 'memory_recursiveprot', 'memory_localevents', 'memory_hugetlb_accounting', 'favordynmods',
  'pids_localevents',
  // nfs
  'hard', 'soft', 'intr', 'nointr', 'tcp', 'udp', 'ac', 'noac', 'cto', 'nocto', 'lock', 'nolock', 'sharecache',
  'nosharecache', 'resvport', 'noresvport', 'fsc', 'nofsc', 'rdirplus', 'nordirplus',
]);

export const isKeyValue = (opt: string): boolean => opt.includes('=');
export const isWellKnownDataFlag = (opt: string): boolean => FS_FLAG_WORDS.has(opt);

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

// The flags a user namespace locks on an inherited mount (the kernel's MNT_LOCK_*).
export const LOCKABLE_FLAGS =
  C.MS_RDONLY | C.MS_NODEV | C.MS_NOEXEC | C.MS_NOSUID | C.MS_NOATIME | C.MS_RELATIME | C.MS_STRICTATIME | C.MS_NODIRATIME;
const ATIME_FLAGS = C.MS_NOATIME | C.MS_RELATIME | C.MS_STRICTATIME | C.MS_NODIRATIME;

// A mount's current flags from statfs. MS_STRICTATIME has no ST_ twin: a mount with neither noatime
// nor relatime is strictatime.
export function statfsMountFlags(st: number): number {
  let f = lockedFlagsFromStatfs(st);
  if (st & C.ST_SYNCHRONOUS) f |= C.MS_SYNCHRONOUS;
  if (st & C.ST_MANDLOCK) f |= C.MS_MANDLOCK;
  if (st & C.ST_NOSYMFOLLOW) f |= C.MS_NOSYMFOLLOW;
  if (!(f & (C.MS_NOATIME | C.MS_RELATIME))) f |= C.MS_STRICTATIME;
  return f;
}

// runc 1.2's retry for a bind remount refused because the source's flags are locked (a user
// namespace): the flags to retry with, or undefined when the request cannot be honoured at all
// (it clears a locked flag, or asks for another atime setting than the locked one).
export function remountRetryFlags(o: MountOptions, sourceFlags: number): number | undefined {
  if (sourceFlags & o.cleared & LOCKABLE_FLAGS) return undefined;
  if (o.flags & ATIME_FLAGS && (o.flags & ATIME_FLAGS) !== (sourceFlags & ATIME_FLAGS)) return undefined;
  return o.flags | (sourceFlags & LOCKABLE_FLAGS);
}
