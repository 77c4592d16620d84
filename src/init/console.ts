// process.terminal inside a new container: a pty from the container's own devpts, its master sent over the
// console socket, its slave the controlling terminal, stdio and /dev/console. (exec's: stub/console.c.)
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { openInRoot, withFd } from '../linux/inroot';
import { isErrno } from '../linux/errors';
import { procfsReopen } from '../linux/procfs';
import type { Process } from '../oci';

// The kernel's new_encode_dev layout, which every number below 2^32 (all pty numbers) uses.
const major = (rdev: number) => (rdev >>> 8) & 0xfff;
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);

// The multiplexer of the container's devpts, checked by fd: an image or a mount could have put a host
// node, a file or another devpts' ptmx under that name.
function openPtmx(rootFd: number): number {
  let handle = -1;
  for (const p of ['/dev/pts/ptmx', '/dev/ptmx']) {
    try {
      handle = openInRoot(rootFd, p, C.O_PATH);
      break;
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
  }
  if (handle < 0) throw new Error('open /dev/pts/ptmx: no such file or directory');
  return withFd(handle, (h) => {
    const magic = libc().fstatfsType(h);
    if (magic !== C.DEVPTS_SUPER_MAGIC) throw new Error(`ptmx handle is not on a real devpts mount: super magic is 0x${magic.toString(16)}`);
    const st = fs.fstatSync(h);
    if (!st.isCharacterDevice() || major(st.rdev) !== C.PTMX_MAJOR || minor(st.rdev) !== C.PTMX_MINOR) {
      throw new Error(`ptmx handle is not a real char ptmx device: ${major(st.rdev)}:${minor(st.rdev)}`);
    }
    // Reopened through the verified procfs handle: what was checked is what gets opened.
    return procfsReopen(h, fs.constants.O_RDWR | C.O_NOCTTY);
  });
}

// The slave by TIOCGPTPEER, never by a /dev/pts/N name the container could have replaced.
function openPeer(master: number): number {
  libc().ioctlBuf(master, C.TIOCSPTLCK, new Uint8Array(4));
  const peer = libc().ioctl(master, C.TIOCGPTPEER, fs.constants.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC);
  const st = fs.fstatSync(peer);
  const maj = major(st.rdev);
  if (!st.isCharacterDevice() || maj < C.PTY_SLAVE_MAJOR_FIRST || maj > C.PTY_SLAVE_MAJOR_LAST) {
    fs.closeSync(peer);
    throw new Error(`pty peer is not a pty slave: ${maj}:${minor(st.rdev)}`);
  }
  return peer;
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  libc().ioctlBuf(fd, C.TIOCSWINSZ, ws);
}

// Bind the slave over /dev/console (CVE-2025-52565): the target is created or opened in the root without
// following a last-component symlink, checked by fd, and the mount goes from the slave's fd onto that fd, so
// neither a link in the image nor a name swapped meanwhile can send the bind anywhere else.
function mountConsole(rootFd: number, peer: number): void {
  const l = libc();
  const open = () => openInRoot(rootFd, '/dev/console', C.O_PATH | fs.constants.O_NOFOLLOW);
  let target: number;
  try {
    target = open();
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    const made = openInRoot(rootFd, '/dev/console', fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW | fs.constants.O_WRONLY, 0o666);
    // Ensure permission bits (as runc: the umask could have cleared some).
    fs.fchmodSync(made, 0o666);
    fs.closeSync(made);
    target = open();
  }
  withFd(target, (t) => {
    const st = fs.fstatSync(t);
    if (st.isSymbolicLink()) throw new Error('create /dev/console mount target: /dev/console is a symlink');
    if (!st.isFile() && !st.isCharacterDevice()) throw new Error('create /dev/console mount target: not a regular file or a character device');
    withFd(l.openTree(peer, '', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_EMPTY_PATH), (tree) =>
      l.moveMount(tree, '', t, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH),
    );
  });
}

/**
 * runc's setupConsole + Setctty for the init. Runs after the pivot, with setsid() done, as root. consoleFd is the connected console socket (closed
 * here); the master goes over it as runc sends it: payload "/dev/ptmx" and exactly one fd (SCM_RIGHTS).
 * The slave ends up as fds 0, 1 and 2, owned by process.user.uid (runc's fixStdioPermissions).
 */
export function setupConsole(consoleFd: number, proc: Process): void {
  const l = libc();
  try {
    withFd(fs.openSync('/', C.O_PATH | fs.constants.O_DIRECTORY | C.O_CLOEXEC), (rootFd) => {
      withFd(openPtmx(rootFd), (master) => {
        withFd(openPeer(master), (peer) => {
          const size = proc.consoleSize;
          if (size && size.height !== 0 && size.width !== 0) setWinsize(master, size.height, size.width);
          mountConsole(rootFd, peer);
          l.sendFds(consoleFd, Buffer.from('/dev/ptmx'), [master]);
          for (const fd of [0, 1, 2]) l.dup3(peer, fd, 0);
        });
      });
    });
  } finally {
    fs.closeSync(consoleFd);
  }
  l.ioctl(0, C.TIOCSCTTY, 0);
  const uid = proc.user?.uid ?? 0;
  const st = fs.fstatSync(0);
  if (st.uid !== uid) {
    try {
      fs.fchownSync(0, uid, st.gid);
    } catch (e) {
      // As runc: an owner or group not mapped in a user namespace leaves the console as it is.
      if (!isErrno(e, 'EINVAL') && !isErrno(e, 'EPERM')) throw e;
    }
  }
}
