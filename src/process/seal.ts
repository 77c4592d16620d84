// Read-only handles on the two executables a container start needs: ocirun itself and the C stub.
// Owns the CVE-2019-5736 defence: the init is exec'd through a detached read-only mount of our binary.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import {
  AT_EMPTY_PATH, AT_FDCWD, F_ADD_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MOUNT_ATTR, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE,
} from '../linux/constants';

const F_DUPFD_CLOEXEC = 1030;

// open_tree(OPEN_TREE_CLONE) makes a private, never-attached bind mount of the binary; marking it
// read-only means that even a container process that gets hold of /proc/<pid>/exe cannot write
// through it (EROFS), and nothing ever appears in any mount table.
export function sealedSelf(): number {
  const fd = libc().openTree(AT_FDCWD, '/proc/self/exe', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  try {
    libc().mountSetattr(fd, '', AT_EMPTY_PATH, BigInt(MOUNT_ATTR.RDONLY), 0n);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

function stubBytes(): Buffer {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as typeof import('node:sea');
    if (sea.isSea()) return Buffer.from(sea.getRawAsset('stub') as ArrayBuffer);
  } catch {
    /* not a single executable: development */
  }
  return fs.readFileSync(path.join(__dirname, 'ocirun-stub'));
}

// The stub runs from a sealed memfd: nothing on disk, nothing writable. It is moved to a high fd so
// that the fd positions given to the child (3, 4, ...) can never overwrite it before exec.
export function stubMemfd(): number {
  const l = libc();
  const tmp = l.memfdCreate('ocirun-stub', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  try {
    fs.writeSync(tmp, stubBytes());
    l.fcntl(tmp, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
    return l.fcntl(tmp, F_DUPFD_CLOEXEC, 200);
  } finally {
    fs.closeSync(tmp);
  }
}
