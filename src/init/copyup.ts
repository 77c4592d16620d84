// The "tmpcopyup" extension: a directory tree copied into the tmpfs mounted over it, entry by entry
// through *at calls on fds, so no path is ever resolved and no symlink in the tree is ever followed.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { openat2Retrying, withFd } from '../linux/inroot';

const RESOLVE = C.RESOLVE_NO_SYMLINKS | C.RESOLVE_NO_MAGICLINKS | C.RESOLVE_BENEATH;
const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const O_FILE = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

// One component below dirFd; a symlink there fails with ELOOP instead of being followed.
const openAt = (dirFd: number, name: string, flags: number, mode = 0): number =>
  openat2Retrying(dirFd, name, flags | C.O_CLOEXEC, mode, RESOLVE);

// Owner before mode (chown clears set-id bits), times last (filling a directory changes its mtime).
function finish(fd: number, st: fs.BigIntStats): void {
  fs.fchownSync(fd, Number(st.uid), Number(st.gid));
  fs.fchmodSync(fd, Number(st.mode & 0o7777n));
  libc().utimensat(fd, null, st.atimeNs, st.mtimeNs, 0);
}

function copyData(from: number, to: number): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = fs.readSync(from, buf, 0, buf.length, null);
    if (n === 0) return;
    for (let off = 0; off < n; ) off += fs.writeSync(to, buf, off, n - off);
  }
}

// Copies the entries of directory `from` into directory `to` (both O_RDONLY|O_DIRECTORY fds): files,
// directories, symlinks, fifos, sockets and device nodes, with owner, mode and times. Hard links
// become separate copies, and xattrs are not copied, as with runc's copy.
export function copyTree(from: number, to: number): void {
  const l = libc();
  for (const { name } of l.getdents(from)) {
    const st = withFd(openAt(from, name, C.O_PATH | fs.constants.O_NOFOLLOW), (fd) => fs.fstatSync(fd, { bigint: true }));
    const mode = Number(st.mode & 0o7777n);
    if (st.isDirectory()) {
      l.mkdirat(to, name, 0o700);
      withFd(openAt(from, name, O_DIR), (src) =>
        withFd(openAt(to, name, O_DIR), (dst) => {
          copyTree(src, dst);
          finish(dst, st);
        }),
      );
    } else if (st.isFile()) {
      withFd(openAt(from, name, O_FILE), (src) =>
        withFd(openAt(to, name, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600), (dst) => {
          copyData(src, dst);
          finish(dst, st);
        }),
      );
    } else if (st.isSymbolicLink()) {
      l.symlinkat(l.readlinkat(from, name), to, name);
      l.fchownat(to, name, Number(st.uid), Number(st.gid), C.AT_SYMLINK_NOFOLLOW);
      l.utimensat(to, name, st.atimeNs, st.mtimeNs, C.AT_SYMLINK_NOFOLLOW);
    } else {
      // fifo, socket, character or block device: recreated, never opened.
      l.mknodat(to, name, Number(st.mode & 0o170000n) | 0o600, Number(st.rdev));
      l.fchownat(to, name, Number(st.uid), Number(st.gid), C.AT_SYMLINK_NOFOLLOW);
      l.fchmodat(to, name, mode);
      l.utimensat(to, name, st.atimeNs, st.mtimeNs, C.AT_SYMLINK_NOFOLLOW);
    }
  }
}
