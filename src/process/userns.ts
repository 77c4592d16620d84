// User namespaces that exist only to describe an id mapping (for MOUNT_ATTR_IDMAP): the stub, in HOLD
// mode, unshares one, the runtime writes its maps and opens /proc/<pid>/ns/user, and the stub leaves.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import { ignoring } from '../linux/errors';
import { CLONE_NEWUSER, O_CLOEXEC } from '../linux/constants';
import { ATTR, AttrWriter, MSG, SOCK_ENV, writeMessage } from './protocol';
import { stubMemfd } from './seal';
import { awaitStubPid, killStub, spawnStub } from './launch';
import type { LinuxIDMapping } from '../oci';

// Node cannot unshare(CLONE_NEWUSER) (it is multithreaded), hence the stub. Returns an O_RDONLY fd of
// the namespace; it stays valid after the stub exits.
export function userNamespaceFd(uidMappings: LinuxIDMapping[], gidMappings: LinuxIDMapping[]): number {
  const [ours, theirs] = libc().socketpair();
  let stubPid = 0;
  try {
    let stub = -1;
    try {
      stub = stubMemfd();
      stubPid = spawnStub(stub, ['ignore', 'ignore', 'ignore', theirs], { [SOCK_ENV]: '3' });
    } finally {
      if (stub >= 0) fs.closeSync(stub);
      fs.closeSync(theirs);
    }
    writeMessage(ours, MSG.BOOTSTRAP, new AttrWriter().u32(ATTR.CLONE_FLAGS, CLONE_NEWUSER).add(ATTR.HOLD, Buffer.alloc(0)).build());
    const pid = awaitStubPid(ours, stubPid, { uidMappings, gidMappings }, 'the ocirun stub exited before its user namespace was ready');
    return fs.openSync(`/proc/${pid}/ns/user`, fs.constants.O_RDONLY | O_CLOEXEC);
  } catch (e) {
    killStub(stubPid);
    stubPid = 0;
    throw e;
  } finally {
    // EOF tells a holding stub to exit; it is our child, reaped here.
    fs.closeSync(ours);
    if (stubPid) ignoring('ECHILD', () => libc().waitpid(stubPid, 0));
  }
}
