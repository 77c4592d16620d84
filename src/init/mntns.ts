// Entering a container's mount namespace from the JS init, late, instead of in the stub.
// Owns the rule that nothing is loaded from the container's files: the engine, its addon and the bundle are already in memory.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import { CLONE_FS, CLONE_NEWNS } from '../linux/constants';

/**
 * The stub could join the mount namespace itself, but then execveat of ocirun would resolve its ELF
 * interpreter (and the dynamic loader its libraries) inside the container: a container-controlled
 * ld.so running with our privileges. So the init starts in the host's mount namespace and moves over
 * here, once libc and koffi's addon (dlopen'ed from an inherited fd) are loaded and the bundle is one
 * file in memory. A multithreaded process may setns into a mount namespace only from a thread with a
 * private fs_struct, hence unshare(CLONE_FS) on the main thread first. Only the main thread moves:
 * libuv's pool threads stay in the host's namespace, so from here on every fs call must be synchronous
 * and nothing may be require()d from disk (esbuild's lazy requires are in the bundle already).
 */
export function joinMountNamespace(fd: number): void {
  const l = libc();
  try {
    l.unshare(CLONE_FS);
    l.setns(fd, CLONE_NEWNS);
  } catch (e) {
    throw new Error(`join the container's mount namespace: ${(e as Error).message}`);
  }
  fs.closeSync(fd);
}
