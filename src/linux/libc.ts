// The one kernel seam: koffi bindings to libc and raw syscalls, each throwing SysError on failure.
// Unit tests replace the whole object with setLibc(); nothing else in src/ calls koffi directly.
import { koffi, type KoffiFn } from './native';
import { SysError } from './errors';
import { AT_EMPTY_PATH, BPF_CMD, SYS, SYS_BPF } from './constants';

export interface Libc {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(path: string): void;
  fchdir(fd: number): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;
  setsid(): number;
  prctl(option: number, a2: number, a3?: number, a4?: number, a5?: number): number;
  capget(version: number, pid: number): number[];
  mknod(path: string, mode: number, dev: number): void;
  mkfifo(path: string, mode: number): void;
  socketpair(): [number, number];
  pipe(): [number, number];
  memfdCreate(name: string, flags: number): number;
  // posix_spawn (a vfork-style clone, safe in a multithreaded process): child fd i is fds[i] (-1: /dev/null
  // for 0-2, closed above); every other fd must be close-on-exec (path may name one: /proc/self/fd/N). The
  // signal mask and dispositions are reset. Returns the pid.
  posixSpawn(path: string, argv: string[], envp: string[], fds: number[]): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  flock(fd: number, op: number): void;
  openTree(dirfd: number, path: string, flags: number): number;
  mountSetattr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, usernsFd?: number): void;
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  waitpid(pid: number, flags: number): { pid: number; status: number };
  waitpidAsync(pid: number): Promise<{ pid: number; status: number }>;
  statfsFlags(path: string): number;
  keyctlJoinSession(name: string): void;
  // Namespaces and rtnetlink (src/container/namespaces.ts, src/linux/netlink.ts).
  ioctl(fd: number, request: number, arg: number): number;
  setns(fd: number, nstype: number): void;
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, data: Uint8Array): number;
  recv(fd: number, into: Uint8Array): number;
  // Attributes of the calling thread (pid 0) or of another process; the thread that execs keeps them.
  schedSetaffinity(pid: number, mask: BigUint64Array): void;
  setMempolicy(mode: number, nodes: BigUint64Array, maxnode: number): void;
  // Mounts by fd: the new mount API and the *at calls that copy a tree without following symlinks.
  getdents(dirfd: number): { name: string; type: number }[];
  mkdirat(dirfd: number, name: string, mode: number): void;
  mknodat(dirfd: number, name: string, mode: number, dev: number): void;
  symlinkat(target: string, dirfd: number, name: string): void;
  readlinkat(dirfd: number, name: string): string;
  fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): void;
  fchmodat(dirfd: number, name: string, mode: number): void;
  // Times in nanoseconds since the epoch; name null means dirfd itself.
  utimensat(dirfd: number, name: string | null, atimeNs: bigint, mtimeNs: bigint, flags: number): void;
  fsopen(fsname: string, flags: number): number;
  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): void;
  fsmount(fd: number, flags: number, attrs: number): number;
  moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void;
  fstatfsType(fd: number): number;
  // bpf(2) for the cgroup2 device filter: load a program (its verifier log in the error), attach/detach
  // it to a cgroup dir fd, list what is attached, and get an fd for a listed program id.
  bpfProgLoad(progType: number, insns: Uint8Array, license: string, name: string, expectedAttachType: number): number;
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void;
  bpfProgDetach(targetFd: number, progFd: number, attachType: number): void;
  bpfProgQuery(targetFd: number, attachType: number): number[];
  bpfProgGetFdById(id: number): number;
  // Notification fds for `events`: the v1 OOM eventfd and the v2 memory.events inotify watch.
  eventfd(initval: number, flags: number): number;
  inotifyInit1(flags: number): number;
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  // Terminals and console sockets (src/init/console.ts, src/process/tty.ts).
  // ioctl with a pointer argument: buf is passed in place and holds what the kernel wrote.
  ioctlBuf(fd: number, request: number, buf: Uint8Array): number;
  dup3(oldfd: number, newfd: number, flags: number): void;
  // One sendmsg(2): data plus the fds as one SCM_RIGHTS message.
  sendFds(sock: number, data: Uint8Array, fds: number[]): void;
  // One recvmsg(2) (MSG_CMSG_CLOEXEC): the data and every fd that came with it.
  recvFds(sock: number, maxData: number, maxFds: number): { data: Buffer; fds: number[] };
  // exec's init: a private fs_struct (CLONE_FS) before it joins the container's mount namespace.
  unshare(flags: number): void;
  // AF_UNIX by path (or "@abstract"): the sd_notify proxy and the console socket.
  unixBind(fd: number, path: string): void;
  unixConnect(fd: number, path: string): void;
  // recv(MSG_DONTWAIT): -1 when nothing is queued.
  recvDontWait(fd: number, into: Uint8Array): number;
  // execveat(fd, "", argv, envp, AT_EMPTY_PATH): create's init becoming the stub (src/init/handoff.ts).
  execveatFd(fd: number, argv: string[], envp: string[]): never;
}

let current: Libc | undefined;

// union bpf_attr, the BPF_PROG_LOAD and BPF_PROG_QUERY members (koffi passes the buffers in place).
// Registered once per process: koffi refuses a second type of the same name when bind() runs again.
let bpfTypes: { load: unknown; query: unknown } | undefined;
// struct iovec and struct msghdr for sendmsg/recvmsg; registered once per process, as above.
let msgTypes: boolean | undefined;
function msghdrTypes(k: ReturnType<typeof koffi>): void {
  if (msgTypes) return;
  k.struct('ocirun_iovec', { base: 'uint8_t *', len: 'size_t' });
  k.struct('ocirun_msghdr', {
    name: 'void *', namelen: 'uint32', iov: 'ocirun_iovec *', iovlen: 'size_t',
    control: 'uint8_t *', controllen: 'size_t', flags: 'int',
  });
  msgTypes = true;
}
function bpfAttrTypes(k: ReturnType<typeof koffi>): { load: unknown; query: unknown } {
  bpfTypes ??= {
    load: k.struct('ocirun_bpf_prog_load_attr', {
      prog_type: 'uint32', insn_cnt: 'uint32', insns: 'const uint8_t *', license: 'const char *',
      log_level: 'uint32', log_size: 'uint32', log_buf: 'uint8_t *', kern_version: 'uint32', prog_flags: 'uint32',
      prog_name: 'char[16]', prog_ifindex: 'uint32', expected_attach_type: 'uint32',
    }),
    query: k.struct('ocirun_bpf_prog_query_attr', {
      target_fd: 'uint32', attach_type: 'uint32', query_flags: 'uint32', attach_flags: 'uint32',
      prog_ids: 'uint32_t *', prog_cnt: 'uint32',
    }),
  };
  return bpfTypes;
}

export function setLibc(fake: Libc | undefined): void {
  current = fake;
}

export function libc(): Libc {
  if (!current) current = bind();
  return current;
}

function bind(): Libc {
  const k = koffi();
  const lib = k.load('libc.so.6');
  // Declared on first call: a command uses a handful of these, and declaring all of them costs milliseconds
  // at every start (issue 8). A declaration error still surfaces, at the first call.
  const f = (decl: string): KoffiFn => {
    let fn: KoffiFn | undefined;
    const get = () => (fn ??= lib.func(decl));
    const lazy = ((...args: unknown[]) => get()(...args)) as KoffiFn;
    lazy.async = (...args: unknown[]) => get().async(...args);
    return lazy;
  };
  const syscall = f('long syscall(long nr, ...)');
  const errno = () => k.errno();
  // Koffi reports errno per call on the calling thread; read it right after the failing call.
  const check = (call: string, r: number | bigint, what?: string): number => {
    if (Number(r) === -1) throw new SysError(call, errno(), what);
    return Number(r);
  };
  const mount = f('int mount(const char *src, const char *tgt, const char *type, unsigned long flags, const char *data)');
  const umount2 = f('int umount2(const char *tgt, int flags)');
  const chroot = f('int chroot(const char *path)');
  const fchdir = f('int fchdir(int fd)');
  const sethostname = f('int sethostname(const char *name, size_t len)');
  const setdomainname = f('int setdomainname(const char *name, size_t len)');
  const setsid = f('int setsid()');
  const prctl = f('int prctl(int op, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
  const mknod = f('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  const mkfifo = f('int mkfifo(const char *path, uint32_t mode)');
  const pipe2 = f('int pipe2(_Out_ int *fds, int flags)');
  const socketpair = f('int socketpair(int domain, int type, int proto, _Out_ int *fds)');
  const posixSpawn = f('int posix_spawn(_Out_ int *pid, const char *path, uint8_t *actions, uint8_t *attr, const char **argv, const char **envp)');
  const spawnActionsInit = f('int posix_spawn_file_actions_init(uint8_t *a)');
  const spawnActionsDestroy = f('int posix_spawn_file_actions_destroy(uint8_t *a)');
  const spawnAddDup2 = f('int posix_spawn_file_actions_adddup2(uint8_t *a, int fd, int newfd)');
  const spawnAddClose = f('int posix_spawn_file_actions_addclose(uint8_t *a, int fd)');
  const spawnAttrInit = f('int posix_spawnattr_init(uint8_t *a)');
  const spawnAttrDestroy = f('int posix_spawnattr_destroy(uint8_t *a)');
  const spawnAttrSetflags = f('int posix_spawnattr_setflags(uint8_t *a, short flags)');
  const spawnAttrSetsigmask = f('int posix_spawnattr_setsigmask(uint8_t *a, const uint8_t *set)');
  const spawnAttrSetsigdefault = f('int posix_spawnattr_setsigdefault(uint8_t *a, const uint8_t *set)');
  const sigemptyset = f('int sigemptyset(uint8_t *set)');
  const sigfillset = f('int sigfillset(uint8_t *set)');
  const openFile = f('int open(const char *path, int flags)');
  const closeFd = f('int close(int fd)');
  const fcntl = f('int fcntl(int fd, int cmd, ...)');
  const flock = f('int flock(int fd, int op)');
  const waitpid = f('int waitpid(int pid, _Out_ int *status, int flags)');
  const ioctl = f('int ioctl(int fd, unsigned long req, unsigned long arg)');
  const setns = f('int setns(int fd, int nstype)');
  const unshare = f('int unshare(int flags)');
  const socket = f('int socket(int domain, int type, int proto)');
  const send = f('long send(int fd, const void *buf, size_t len, int flags)');
  const recv = f('long recv(int fd, void *buf, size_t len, int flags)');
  const getdents64 = f('long getdents64(int fd, _Out_ uint8_t *buf, size_t n)');
  const mkdirat = f('int mkdirat(int dirfd, const char *path, uint32_t mode)');
  const mknodat = f('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
  const symlinkat = f('int symlinkat(const char *target, int dirfd, const char *path)');
  const readlinkat = f('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t n)');
  const fchownat = f('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)');
  const fchmodat = f('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)');
  const utimensat = f('int utimensat(int dirfd, const char *path, const int64_t *times, int flags)');
  const futimens = f('int futimens(int fd, const int64_t *times)');
  const eventfd = f('int eventfd(unsigned int initval, int flags)');
  const inotifyInit1 = f('int inotify_init1(int flags)');
  const inotifyAddWatch = f('int inotify_add_watch(int fd, const char *path, uint32_t mask)');
  msghdrTypes(k);
  const ioctlBuf = f('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)');
  const dup3 = f('int dup3(int oldfd, int newfd, int flags)');
  const sendmsg = f('long sendmsg(int fd, const ocirun_msghdr *msg, int flags)');
  const recvmsg = f('long recvmsg(int fd, ocirun_msghdr *msg, int flags)');
  const bindFn = f('int bind(int fd, const uint8_t *addr, uint32_t len)');
  const connectFn = f('int connect(int fd, const uint8_t *addr, uint32_t len)');
  const enc = (s: string) => Buffer.byteLength(s);
  const { load: bpfLoadAttr, query: bpfQueryAttr } = bpfAttrTypes(k);
  const bpfWords = (cmd: number, words: number[]) => {
    const attr = new Uint32Array(words);
    return syscall(SYS_BPF, 'int', cmd, 'uint32_t *', attr, 'uint', attr.byteLength);
  };
  return {
    mount: (src, tgt, type, flags, data) => void check('mount', mount(src, tgt, type, flags, data), tgt),
    umount2: (tgt, flags) => void check('umount2', umount2(tgt, flags), tgt),
    pivotRoot: (n, o) => void check('pivot_root', syscall(SYS.pivot_root, 'str', n, 'str', o), n),
    chroot: (p) => void check('chroot', chroot(p), p),
    fchdir: (fd) => void check('fchdir', fchdir(fd)),
    sethostname: (n) => void check('sethostname', sethostname(n, enc(n)), JSON.stringify(n)),
    setdomainname: (n) => void check('setdomainname', setdomainname(n, enc(n)), JSON.stringify(n)),
    setsid: () => check('setsid', setsid()),
    prctl: (op, a2, a3 = 0, a4 = 0, a5 = 0) => check('prctl', prctl(op, a2, a3, a4, a5), String(op)),
    capget: (version, pid) => {
      const hdr = new Uint32Array([version, pid]);
      const data = new Uint32Array(6);
      check('capget', syscall(SYS.capget, 'uint32_t *', hdr, 'uint32_t *', data));
      return Array.from(data);
    },
    mknod: (p, mode, dev) => void check('mknod', mknod(p, mode, dev), p),
    mkfifo: (p, mode) => void check('mkfifo', mkfifo(p, mode), p),
    socketpair: () => {
      const fds = [0, 0];
      check('socketpair', socketpair(1 /* AF_UNIX */, 1 | 0o2000000 /* SOCK_STREAM|SOCK_CLOEXEC */, 0, fds));
      return [fds[0], fds[1]];
    },
    pipe: () => {
      const fds = [0, 0];
      check('pipe2', pipe2(fds, 0o2000000 /* O_CLOEXEC */));
      return [fds[0], fds[1]];
    },
    memfdCreate: (name, flags) => check('memfd_create', syscall(SYS.memfd_create, 'str', name, 'uint', flags), name),
    posixSpawn: (file, argv, envp, fds) => {
      // glibc's posix_spawn_file_actions_t and posix_spawnattr_t are 80 and 336 bytes; sigset_t is 128.
      const actions = Buffer.alloc(512);
      const attr = Buffer.alloc(512);
      const none = Buffer.alloc(128);
      const all = Buffer.alloc(128);
      const temps: number[] = [];
      const err = (call: string, r: number) => {
        if (r !== 0) throw new SysError(call, r);
      };
      let nullFd = -1;
      try {
        err('posix_spawn_file_actions_init', spawnActionsInit(actions));
        err('posix_spawnattr_init', spawnAttrInit(attr));
        // Every source first goes above the highest target, so no dup2 can overwrite a source still needed.
        const above = (fd: number) => {
          const t = check('fcntl', fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 'int', fds.length), String(fd));
          temps.push(t);
          return t;
        };
        fds.forEach((fd, i) => {
          if (fd >= 0) err('posix_spawn_file_actions_adddup2', spawnAddDup2(actions, above(fd), i));
          else if (i <= 2) {
            if (nullFd < 0) nullFd = check('open', openFile('/dev/null', 2 /* O_RDWR */ | 0o2000000 /* O_CLOEXEC */), '/dev/null');
            err('posix_spawn_file_actions_adddup2', spawnAddDup2(actions, above(nullFd), i));
          } else err('posix_spawn_file_actions_addclose', spawnAddClose(actions, i));
        });
        sigemptyset(none);
        sigfillset(all);
        err('posix_spawnattr_setsigmask', spawnAttrSetsigmask(attr, none));
        err('posix_spawnattr_setsigdefault', spawnAttrSetsigdefault(attr, all));
        err('posix_spawnattr_setflags', spawnAttrSetflags(attr, 0x04 /* SETSIGDEF */ | 0x08 /* SETSIGMASK */));
        const pid = [0];
        err('posix_spawn', posixSpawn(pid, file, actions, attr, [...argv, null], [...envp, null]));
        return pid[0];
      } finally {
        spawnActionsDestroy(actions);
        spawnAttrDestroy(attr);
        for (const t of temps) closeFd(t);
        if (nullFd >= 0) closeFd(nullFd);
      }
    },
    fcntl: (fd, cmd, arg) => check('fcntl', fcntl(fd, cmd, 'int', arg), String(cmd)),
    flock: (fd, op) => void check('flock', flock(fd, op)),
    openTree: (dirfd, p, flags) => check('open_tree', syscall(SYS.open_tree, 'int', dirfd, 'str', p, 'uint', flags), p),
    mountSetattr: (dirfd, p, flags, set, clr, usernsFd = 0) => {
      // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
      const attr = new BigUint64Array([set, clr, 0n, BigInt(usernsFd)]);
      check('mount_setattr', syscall(SYS.mount_setattr, 'int', dirfd, 'str', p, 'uint', flags, 'uint64_t *', attr, 'size_t', 32));
    },
    openat2: (dirfd, p, flags, mode, resolve) => {
      // struct open_how { u64 flags, mode, resolve; }
      const how = new BigUint64Array([BigInt(flags), BigInt(mode), BigInt(resolve)]);
      return check('openat2', syscall(SYS.openat2, 'int', dirfd, 'str', p, 'uint64_t *', how, 'size_t', 24), p);
    },
    waitpid: (pid, flags) => {
      const st = [0];
      const r = check('waitpid', waitpid(pid, st, flags), String(pid));
      return { pid: r, status: st[0] };
    },
    waitpidAsync: (pid) =>
      new Promise((resolve, reject) => {
        const st = [0];
        waitpid.async(pid, st, 0, (err: Error | null, r: number) => {
          if (err) reject(err);
          else if (r === -1) reject(new SysError('waitpid', errno(), String(pid)));
          else resolve({ pid: r, status: st[0] });
        });
      }),
    statfsFlags: (p) => {
      // struct statfs on x86_64 is 15 longs; f_flags is the 11th.
      const buf = new BigInt64Array(15);
      check('statfs', syscall(SYS.statfs, 'str', p, 'int64_t *', buf), p);
      return Number(buf[10]);
    },
    keyctlJoinSession: (name) => void check('keyctl(JOIN_SESSION_KEYRING)', syscall(SYS.keyctl, 'int', 1, 'str', name), name),
    ioctl: (fd, req, arg) => check('ioctl', ioctl(fd, req, arg), `0x${req.toString(16)}`),
    setns: (fd, type) => void check('setns', setns(fd, type)),
    unshare: (flags) => void check('unshare', unshare(flags)),
    socket: (domain, type, proto) => check('socket', socket(domain, type, proto)),
    // MSG_NOSIGNAL: a closed peer must be an EPIPE error, not a fatal SIGPIPE.
    send: (fd, data) => check('send', send(fd, data, data.byteLength, 0x4000)),
    recv: (fd, into) => check('recv', recv(fd, into, into.byteLength, 0)),
    schedSetaffinity: (pid, mask) =>
      void check('sched_setaffinity', syscall(SYS.sched_setaffinity, 'int', pid, 'size_t', mask.byteLength, 'uint64_t *', mask), String(pid)),
    setMempolicy: (mode, nodes, maxnode) =>
      void check('set_mempolicy', syscall(SYS.set_mempolicy, 'int', mode, 'uint64_t *', nodes.length ? nodes : null, 'ulong', maxnode)),
    getdents: (dirfd) => {
      // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
      const out: { name: string; type: number }[] = [];
      const buf = Buffer.alloc(32768);
      for (;;) {
        const n = check('getdents64', getdents64(dirfd, buf, buf.length));
        if (n === 0) return out;
        for (let off = 0; off < n; ) {
          const reclen = buf.readUInt16LE(off + 16);
          const end = buf.indexOf(0, off + 19);
          const name = buf.toString('utf8', off + 19, end);
          if (name !== '.' && name !== '..') out.push({ name, type: buf[off + 18] });
          off += reclen;
        }
      }
    },
    mkdirat: (dirfd, name, mode) => void check('mkdirat', mkdirat(dirfd, name, mode), name),
    mknodat: (dirfd, name, mode, dev) => void check('mknodat', mknodat(dirfd, name, mode, dev), name),
    symlinkat: (target, dirfd, name) => void check('symlinkat', symlinkat(target, dirfd, name), name),
    readlinkat: (dirfd, name) => {
      const buf = Buffer.alloc(4097);
      const n = check('readlinkat', readlinkat(dirfd, name, buf, buf.length), name);
      if (n >= buf.length) throw new SysError('readlinkat', 36 /* ENAMETOOLONG */, name);
      return buf.toString('utf8', 0, n);
    },
    fchownat: (dirfd, name, uid, gid, flags) => void check('fchownat', fchownat(dirfd, name, uid, gid, flags), name),
    fchmodat: (dirfd, name, mode) => void check('fchmodat', fchmodat(dirfd, name, mode, 0), name),
    utimensat: (dirfd, name, atime, mtime, flags) => {
      const ns = 1_000_000_000n;
      const times = new BigInt64Array([atime / ns, atime % ns, mtime / ns, mtime % ns]);
      // glibc's utimensat refuses a NULL path; futimens is the fd form.
      if (name === null) check('futimens', futimens(dirfd, times));
      else check('utimensat', utimensat(dirfd, name, times, flags), name);
    },
    fsopen: (name, flags) => check('fsopen', syscall(SYS.fsopen, 'str', name, 'uint', flags), name),
    fsconfig: (fd, cmd, key, value, aux) =>
      void check('fsconfig', syscall(SYS.fsconfig, 'int', fd, 'uint', cmd, 'str', key, 'str', value, 'int', aux), key ?? String(cmd)),
    fsmount: (fd, flags, attrs) => check('fsmount', syscall(SYS.fsmount, 'int', fd, 'uint', flags, 'uint', attrs)),
    moveMount: (fromFd, fromPath, toFd, toPath, flags) =>
      void check('move_mount', syscall(SYS.move_mount, 'int', fromFd, 'str', fromPath, 'int', toFd, 'str', toPath, 'uint', flags)),
    fstatfsType: (fd) => {
      // struct statfs on x86_64: f_type is the first long.
      const buf = new BigInt64Array(15);
      check('fstatfs', syscall(SYS.fstatfs, 'int', fd, 'int64_t *', buf));
      return Number(buf[0]);
    },
    bpfProgLoad: (progType, insns, license, name, expectedAttachType) => {
      const load = (logBuf: Buffer | null) =>
        syscall(SYS_BPF, 'int', BPF_CMD.PROG_LOAD, 'ocirun_bpf_prog_load_attr *', {
          prog_type: progType, insn_cnt: insns.byteLength / 8, insns, license,
          log_level: logBuf ? 1 : 0, log_size: logBuf ? logBuf.length : 0, log_buf: logBuf,
          kern_version: 0, prog_flags: 0, prog_name: name, prog_ifindex: 0, expected_attach_type: expectedAttachType,
        }, 'uint', k.sizeof(bpfLoadAttr));
      const fd = Number(load(null));
      if (fd >= 0) return fd;
      const first = errno();
      // Load again with the verifier log, so a refused program says why.
      const log = Buffer.alloc(65536);
      const again = Number(load(log));
      if (again >= 0) return again;
      const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trim().split('\n').slice(-3).join('; ');
      throw new SysError('bpf(BPF_PROG_LOAD)', first, text ? `(verifier: ${text})` : undefined);
    },
    bpfProgAttach: (target, prog, type, flags) =>
      void check('bpf(BPF_PROG_ATTACH)', bpfWords(BPF_CMD.PROG_ATTACH, [target, prog, type, flags, 0])),
    bpfProgDetach: (target, prog, type) =>
      void check('bpf(BPF_PROG_DETACH)', bpfWords(BPF_CMD.PROG_DETACH, [target, prog, type, 0, 0])),
    bpfProgQuery: (target, type) => {
      // A cgroup holds at most 64 programs per attach type; ENOSPC reports the real count.
      for (let size = 64; ; ) {
        const ids = new Uint32Array(size);
        const attr = { target_fd: target, attach_type: type, query_flags: 0, attach_flags: 0, prog_ids: ids, prog_cnt: size };
        const r = Number(syscall(SYS_BPF, 'int', BPF_CMD.PROG_QUERY, 'ocirun_bpf_prog_query_attr *', attr, 'uint', k.sizeof(bpfQueryAttr)));
        if (r === -1) {
          const e = errno();
          if (e === 28 /* ENOSPC */ && size < 4096) {
            size *= 4;
            continue;
          }
          throw new SysError('bpf(BPF_PROG_QUERY)', e);
        }
        // The count comes back in the struct, which koffi does not copy out: the ids end at the first 0.
        const n = ids.indexOf(0);
        return Array.from(n < 0 ? ids : ids.subarray(0, n));
      }
    },
    bpfProgGetFdById: (id) => check('bpf(BPF_PROG_GET_FD_BY_ID)', bpfWords(BPF_CMD.PROG_GET_FD_BY_ID, [id, 0, 0]), String(id)),
    eventfd: (initval, flags) => check('eventfd', eventfd(initval, flags)),
    inotifyInit1: (flags) => check('inotify_init1', inotifyInit1(flags)),
    inotifyAddWatch: (fd, p, mask) => check('inotify_add_watch', inotifyAddWatch(fd, p, mask), p),
    ioctlBuf: (fd, req, buf) => check('ioctl', ioctlBuf(fd, req, buf), `0x${req.toString(16)}`),
    dup3: (oldfd, newfd, flags) => void check('dup3', dup3(oldfd, newfd, flags)),
    sendFds: (sock, data, fds) => {
      // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + the fds, 8-byte aligned.
      const len = 16 + 4 * fds.length;
      const control = Buffer.alloc((len + 7) & ~7);
      control.writeBigUInt64LE(BigInt(len), 0);
      control.writeInt32LE(1 /* SOL_SOCKET */, 8);
      control.writeInt32LE(1 /* SCM_RIGHTS */, 12);
      fds.forEach((fd, i) => control.writeInt32LE(fd, 16 + 4 * i));
      const body = Buffer.from(data);
      const msg = {
        name: null, namelen: 0, iov: { base: body, len: body.length }, iovlen: 1,
        control: fds.length ? control : null, controllen: fds.length ? control.length : 0, flags: 0,
      };
      const n = check('sendmsg', sendmsg(sock, msg, 0x4000 /* MSG_NOSIGNAL */));
      if (n !== body.length) throw new SysError('sendmsg', 5 /* EIO */, `short write (${n} of ${body.length} bytes)`);
    },
    recvFds: (sock, maxData, maxFds) => {
      const body = Buffer.alloc(Math.max(1, maxData));
      const control = Buffer.alloc(16 + ((4 * maxFds + 7) & ~7));
      const msg = { name: null, namelen: 0, iov: { base: body, len: body.length }, iovlen: 1, control, controllen: control.length, flags: 0 };
      const n = check('recvmsg', recvmsg(sock, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */));
      // koffi does not copy the struct back: walk the control buffer by its own cmsg_len fields.
      const fds: number[] = [];
      for (let off = 0; off + 16 <= control.length; ) {
        const clen = Number(control.readBigUInt64LE(off));
        if (clen < 16) break;
        if (control.readInt32LE(off + 8) === 1 && control.readInt32LE(off + 12) === 1) {
          for (let p = off + 16; p + 4 <= off + clen && p + 4 <= control.length; p += 4) fds.push(control.readInt32LE(p));
        }
        off += (clen + 7) & ~7;
      }
      return { data: body.subarray(0, n), fds };
    },
    unixBind: (fd, p) => {
      const a = sockaddrUn(p);
      check('bind', bindFn(fd, a, a.length), p);
    },
    unixConnect: (fd, p) => {
      const a = sockaddrUn(p);
      check('connect', connectFn(fd, a, a.length), p);
    },
    execveatFd: (fd, argv, envp) => {
      f('int execveat(int dirfd, const char *path, const char **argv, const char **envp, int flags)')(fd, '', [...argv, null], [...envp, null], AT_EMPTY_PATH);
      throw new SysError('execveat', errno(), String(fd));
    },
    recvDontWait: (fd, into) => {
      const r = Number(recv(fd, into, into.byteLength, 0x40 /* MSG_DONTWAIT */));
      if (r === -1) {
        const e = errno();
        if (e === 11 /* EAGAIN */) return -1;
        throw new SysError('recv', e);
      }
      return r;
    },
  };
}

// struct sockaddr_un for a path (at most 107 bytes, NUL-terminated) or an abstract name ("@name", as Go spells it).
function sockaddrUn(p: string): Buffer {
  const abstract = p.startsWith('@');
  const name = Buffer.from(p);
  if (abstract) name[0] = 0;
  if (name.length > 107) throw new SysError('sockaddr_un', 36 /* ENAMETOOLONG */, p);
  const a = Buffer.alloc(2 + name.length + (abstract ? 0 : 1));
  a.writeUInt16LE(1 /* AF_UNIX */, 0);
  name.copy(a, 2);
  return a;
}
