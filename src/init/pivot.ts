// Switching the init's root to the container rootfs: pivot_root, or MS_MOVE + chroot with --no-pivot.
// Owns leaving the host's filesystem behind (the old root is detached, never reachable again).
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';

export function pivotRoot(rootfs: string): void {
  const l = libc();
  const oldRoot = fs.openSync('/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const newRoot = fs.openSync(rootfs, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    // pivot_root(".", ".") stacks the old root on top of the new one; no put_old directory is needed.
    l.fchdir(newRoot);
    l.pivotRoot('.', '.');
    l.fchdir(oldRoot);
    // Keep the unmount of the old root from propagating back to the host.
    l.mount(null, '.', null, C.MS_SLAVE | C.MS_REC, null);
    l.umount2('.', C.MNT_DETACH);
  } finally {
    fs.closeSync(oldRoot);
    fs.closeSync(newRoot);
  }
  process.chdir('/');
}

export function moveRoot(rootfs: string): void {
  process.chdir(rootfs);
  libc().mount(rootfs, '/', null, C.MS_MOVE, null);
  libc().chroot('.');
  process.chdir('/');
}
