// The container's /dev: runc's default device nodes, linux.devices, and the standard symlinks.
// Owns device creation, which must never touch a host node (no chown through a link or a bind).
import { O_CLOEXEC, O_PATH } from '../linux/constants';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxDevice } from '../oci';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';
import { fdPath, mkdirAllInRoot, openInRoot } from '../linux/inroot';
import { ignoring } from '../linux/errors';

// runc's list and order (its AllowedDevices): the order shows in the mount table of a user-namespaced container.
export const DEFAULT_DEVICES: LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

/**
 * The default devices that linux.devices does not replace (same path), then linux.devices in order,
 * as runc does; a path listed twice keeps its first entry. Errors name the config entry.
 */
export function createDevices(rootFd: number, devices: LinuxDevice[], bindFromHost: boolean): void {
  const named = new Set(devices.map((d) => path.posix.normalize(d.path)));
  const list: [string, LinuxDevice][] = [
    ...DEFAULT_DEVICES.filter((d) => !named.has(d.path)).map((d): [string, LinuxDevice] => [`default device ${d.path}`, d]),
    ...devices.map((d, i): [string, LinuxDevice] => [`linux.devices[${i}] (${d.path})`, d]),
  ];
  const seen = new Set<string>();
  for (const [where, d] of list) {
    const key = path.posix.normalize(d.path);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      createDevice(rootFd, d, bindFromHost);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
}

// Validation caps major at 12 and minor at 20 bits, which the 32-bit dev_t layout holds entirely.
const makedev = (major: number, minor: number) => ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;

const typeBits = (t: string) => (t === 'b' ? C.S_IFBLK : t === 'p' ? C.S_IFIFO : C.S_IFCHR);

export function createDevice(rootFd: number, d: LinuxDevice, bindFromHost: boolean): void {
  const dest = path.posix.join('/', d.path);
  const name = path.posix.basename(dest);
  const dirFd = mkdirAllInRoot(rootFd, path.posix.dirname(dest), 0o755);
  try {
    const where = `${fdPath(dirFd)}/${name}`;
    if (bindFromHost) {
      // In a user namespace mknod is refused: bind the host's node onto an empty file instead.
      ignoring('EEXIST', () => fs.closeSync(fs.openSync(where, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0o000)));
      const fd = openInRoot(rootFd, dest);
      try {
        libc().mount(d.path, fdPath(fd), null, C.MS_BIND, null);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    const mode = (d.fileMode ?? 0o666) & 0o7777;
    const rdev = d.type === 'p' ? 0 : makedev(d.major ?? 0, d.minor ?? 0);
    ignoring('EEXIST', () => libc().mknod(where, typeBits(d.type) | mode, rdev));
    // Check what is really there before changing it: a pre-existing name in the rootfs could be a
    // link or mount leading to a host node, which must keep its owner and mode.
    const fd = fs.openSync(where, O_PATH | fs.constants.O_NOFOLLOW | O_CLOEXEC);
    try {
      const st = fs.fstatSync(fd);
      const dir = fs.fstatSync(dirFd);
      const ours = st.dev === dir.dev && (st.mode & 0o170000) === typeBits(d.type) && (d.type === 'p' || st.rdev === rdev);
      if (!ours) throw new Error(`${d.path} exists in the rootfs and is not the requested device`);
      const uid = d.uid ?? 0;
      const gid = d.gid ?? 0;
      const chown = st.uid !== uid || st.gid !== gid;
      if (chown) fs.chownSync(fdPath(fd), uid, gid);
      // chown clears the set-id bits, so a mode that has them is applied after it.
      if (chown || (st.mode & 0o7777) !== mode) fs.chmodSync(fdPath(fd), mode);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(dirFd);
  }
}

export function createDevSymlinks(rootFd: number): void {
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
  ];
  if (fs.existsSync('/proc/kcore')) links.push(['/proc/kcore', 'core']);
  const dirFd = mkdirAllInRoot(rootFd, '/dev', 0o755);
  try {
    for (const [target, name] of links) ignoring('EEXIST', () => fs.symlinkSync(target, `${fdPath(dirFd)}/${name}`));
    // /dev/ptmx must be the devpts instance of this container, not a host node.
    ignoring('ENOENT', () => fs.unlinkSync(`${fdPath(dirFd)}/ptmx`));
    fs.symlinkSync('pts/ptmx', `${fdPath(dirFd)}/ptmx`);
  } finally {
    fs.closeSync(dirFd);
  }
}
