// User namespaces that exist only to describe an id mapping (for MOUNT_ATTR_IDMAP): the stub, in HOLD
// mode, unshares one, the runtime writes its maps and opens /proc/<pid>/ns/user, and the stub leaves.
import * as fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { libc } from '../linux/libc';
import { ignoring } from '../linux/errors';
import { CLONE_NEWUSER, O_CLOEXEC } from '../linux/constants';
import { ATTR, AttrWriter, MSG, SOCK_ENV, writeMessage } from './protocol';
import { stubMemfd } from './seal';
import { awaitStubPid, killStub } from './launch';
import type { LinuxIDMapping } from '../oci';

// Node cannot unshare(CLONE_NEWUSER) (it is multithreaded), hence the stub. Returns an O_RDONLY fd of
// the namespace; it stays valid after the stub exits.
export function userNamespaceFd(uidMappings: LinuxIDMapping[], gidMappings: LinuxIDMapping[]): number {
  const [ours, theirs] = libc().socketpair();
  let child: ChildProcess | undefined;
  try {
    let stub = -1;
    try {
      stub = stubMemfd();
      child = spawn(`/proc/self/fd/${stub}`, [], {
        argv0: 'ocirun-stub',
        stdio: ['ignore', 'ignore', 'ignore', theirs],
        env: { [SOCK_ENV]: '3' },
      });
    } finally {
      if (stub >= 0) fs.closeSync(stub);
      fs.closeSync(theirs);
    }
    if (!child.pid) throw new Error('cannot start the ocirun stub');
    writeMessage(ours, MSG.BOOTSTRAP, new AttrWriter().u32(ATTR.CLONE_FLAGS, CLONE_NEWUSER).add(ATTR.HOLD, Buffer.alloc(0)).build());
    const pid = awaitStubPid(ours, child.pid, { uidMappings, gidMappings }, 'the ocirun stub exited before its user namespace was ready');
    return fs.openSync(`/proc/${pid}/ns/user`, fs.constants.O_RDONLY | O_CLOEXEC);
  } catch (e) {
    killStub(child);
    throw e;
  } finally {
    // EOF tells a holding stub to exit. Reap it here: a foreground `run` reaps with waitpid(-1) later, so
    // libuv might never see it go, and its handle must not keep the event loop alive.
    fs.closeSync(ours);
    if (child?.pid) {
      child.unref();
      ignoring('ECHILD', () => libc().waitpid(child!.pid!, 0));
    }
  }
}
