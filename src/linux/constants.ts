// Kernel constants for x86_64 Linux that Node's os.constants does not carry.
// Owns every magic number passed to the kernel seam.
export const CLONE_NEWTIME = 0x00000080;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

export const MNT_DETACH = 2;

export const SYS = {
  pivot_root: 155,
  memfd_create: 319,
  close_range: 436,
  openat2: 437,
  open_tree: 428,
  mount_setattr: 442,
  capget: 125,
  capset: 126,
  prlimit64: 302,
  statfs: 137,
  keyctl: 250,
  fstatfs: 138,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  personality: 135,
  sched_setaffinity: 203,
  set_mempolicy: 238,
  ioprio_set: 251,
  sched_setattr: 314,
  setresuid: 117,
  seccomp: 317,
} as const;

export const AT_FDCWD = -100;

export const OPEN_TREE_CLONE = 1;
export const OPEN_TREE_CLOEXEC = 0o2000000;
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;

export const MFD_CLOEXEC = 1;
export const MFD_ALLOW_SEALING = 2;
export const F_ADD_SEALS = 1033;
export const F_SEAL_SEAL = 1;
export const F_SEAL_SHRINK = 2;
export const F_SEAL_GROW = 4;
export const F_SEAL_WRITE = 8;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;

export const CLOSE_RANGE_CLOEXEC = 4;

export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_IN_ROOT = 0x10;

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_RAISE = 2;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_CLOEXEC = 0o2000000;

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export const WNOHANG = 1;

// statfs f_flags bits (ST_*), which differ from MS_* for the atime family.
export const ST_RDONLY = 1;
export const ST_NOSUID = 2;
export const ST_NODEV = 4;
export const ST_NOEXEC = 8;
export const ST_NOATIME = 1024;
export const ST_NODIRATIME = 2048;
export const ST_RELATIME = 4096;

// Node's fs.constants carries neither; libuv adds O_CLOEXEC to every open by itself anyway.
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

export const F_GETFL = 3;
export const F_SETFL = 4;

// ioctl on an nsfs file: which CLONE_NEW* namespace it is (linux/nsfs.h, _IO(0xb7, 0x3)).
export const NS_GET_NSTYPE = 0xb703;

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const NETLINK_ROUTE = 0;
// The process attributes of config.json: I/O priority, scheduling, CPU affinity, persona, NUMA policy.
export const IOPRIO_WHO_PROCESS = 1;
export const IOPRIO_CLASS_SHIFT = 13;
export const IOPRIO_CLASS = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 } as const;

export const SCHED_POLICY = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
} as const;
export const SCHED_FLAG = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
} as const;

export const PERSONA = { LINUX: 0x0000, LINUX32: 0x0008 } as const;

export const MPOL_MODE = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
} as const;
export const MPOL_FLAG = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
} as const;
// Mounts: the parts of the new mount API and statfs that config.json `mounts` needs.
export const MS_I_VERSION = 1 << 23;
export const ST_SYNCHRONOUS = 16;
export const ST_MANDLOCK = 64;
export const ST_NOSYMFOLLOW = 0x2000;
// MOUNT_ATTR_* for mount_setattr(2); ATIME is the MOUNT_ATTR__ATIME mask of the atime enum.
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20,
  NODIRATIME: 0x80, IDMAP: 0x100000, NOSYMFOLLOW: 0x200000,
} as const;
export const AT_SYMLINK_NOFOLLOW = 0x100;

// The new mount API (fsopen/fsconfig/fsmount, move_mount), for mounts made from and onto fds only.
export const FSOPEN_CLOEXEC = 1;
export const FSCONFIG_SET_FLAG = 0;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_CMD_CREATE = 6;
export const FSMOUNT_CLOEXEC = 1;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

// openat2 resolve flags beyond RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS.
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;

// statfs f_type of procfs, and the inode number only the root of a procfs superblock has.
export const PROC_SUPER_MAGIC = 0x9fa0;
export const PROC_ROOT_INO = 1;
export const SYSFS_MAGIC = 0x62656572;

// bpf(2) for the cgroup2 device filter (src/cgroups/v2/ebpf.ts): commands, the program and attach
// type of BPF_PROG_TYPE_CGROUP_DEVICE, and the access/type bits of struct bpf_cgroup_dev_ctx.
export const SYS_BPF = 321;
export const BPF_CMD = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_GET_FD_BY_ID: 13,
  PROG_QUERY: 16,
} as const;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;
export const BPF_DEVCG_ACC = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
export const BPF_DEVCG_DEV = { BLOCK: 1, CHAR: 2 } as const;
// eventfd(2) and inotify(7) flags for `events`.
export const EFD_CLOEXEC = 0o2000000;
export const IN_CLOEXEC = 0o2000000;
export const IN_MODIFY = 0x2;
// Terminals (src/init/console.ts, src/process/tty.ts): tty_ioctl(2) requests, devpts and pty numbers,
// and the termios bits cfmakeraw(3) clears.
export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TIOCSCTTY = 0x540e;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const TIOCGPTPEER = 0x5441;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
// /dev/pts/ptmx is char 5:2; Unix98 pty slaves use majors 136-143.
export const PTMX_MAJOR = 5;
export const PTMX_MINOR = 2;
export const PTY_SLAVE_MAJOR_FIRST = 136;
export const PTY_SLAVE_MAJOR_LAST = 143;
export const O_NOCTTY = 0o400;
export const SCM_RIGHTS = 1;
export const TERMIOS = {
  IGNBRK: 0x1, BRKINT: 0x2, PARMRK: 0x8, ISTRIP: 0x20, INLCR: 0x40, IGNCR: 0x80, ICRNL: 0x100, IXON: 0x400,
  OPOST: 0x1, ONLCR: 0x4,
  CSIZE: 0x30, CS8: 0x30, PARENB: 0x100,
  ISIG: 0x1, ICANON: 0x2, ECHO: 0x8, ECHONL: 0x40, IEXTEN: 0x8000,
  VTIME: 5, VMIN: 6,
} as const;

// unshare(2): a private copy of the root, cwd and umask (a thread sharing them cannot join a mount namespace).
export const CLONE_FS = 0x00000200;
