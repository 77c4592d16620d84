// create's init hands its final stage to the static stub: the PLAN goes into a memfd, the fds the stage needs
// survive the exec, and the stub's sealed memfd is exec'd in place of this Node process (the pid stays).
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import { F_SETFD, MFD_CLOEXEC } from '../linux/constants';
import { encodeMessage, MSG, SOCK_ENV } from '../process/protocol';
import { encodePlan, type StagePlan } from '../process/plan';

/**
 * A whole JS heap would otherwise wait on exec.fifo until `start` (and count against the container's memory
 * limit, which the runtime sets at READY): the stub sends READY itself once the stage has done everything that
 * can fail before `start`, then waits, runs the startContainer hooks and exec's the program (stub/stage.c).
 */
export function handOff(plan: StagePlan, sock: number, stubFd: number): never {
  const l = libc();
  const planFd = l.memfdCreate('ocirun-plan', MFD_CLOEXEC);
  const msg = encodeMessage(MSG.PLAN, encodePlan(plan));
  // pwrite: the offset stays at 0 for the stub's read.
  for (let off = 0; off < msg.length; ) off += fs.writeSync(planFd, msg, off, msg.length - off, off);
  // Node marks the fds it inherits close-on-exec: stdio and the preserved fds go to the program, the rest to the stage.
  const keep = [...Array(3 + plan.preserveFds).keys(), sock, planFd, plan.procfsFd, plan.fifoFd, plan.seccomp?.listener?.fd];
  for (const fd of keep) {
    if (fd === undefined) continue;
    try {
      l.fcntl(fd, F_SETFD, 0);
    } catch (e) {
      // A preserved fd may be a gap (closed by our caller on purpose), as with runc.
      if ((e as NodeJS.ErrnoException).code !== 'EBADF') throw e;
    }
  }
  return l.execveatFd(stubFd, ['ocirun', 'init'], [`${SOCK_ENV}=${sock}`, `_OCIRUN_PLAN=${planFd}`]);
}
