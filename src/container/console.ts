// The runtime's side of process.terminal: runc's rules for when a console socket is needed or allowed,
// and the connection to --console-socket whose fd the init sends the pty master over.
import * as fs from 'node:fs';
import { libc } from '../linux/libc';
import { errnoText } from '../linux/errors';
import type { Spec } from '../oci';

// runc's checkTerminal, with its wording (engines and users know these messages).
export function checkTerminal(terminal: boolean, detach: boolean, socketPath: string | undefined): void {
  if (detach && terminal && !socketPath) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if ((!detach || !terminal) && socketPath) throw new Error('cannot use console socket if runc will not detach or allocate tty');
}

// A connected AF_UNIX stream socket, close-on-exec (launch hands it to the init explicitly).
export function connectConsoleSocket(socketPath: string): number {
  const l = libc();
  const fd = l.socket(1 /* AF_UNIX */, 1 | 0o2000000 /* SOCK_STREAM|SOCK_CLOEXEC */, 0);
  try {
    l.unixConnect(fd, socketPath);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    // Go's net.Dial wording, as runc reports it.
    throw new Error(`dial unix ${socketPath}: connect: ${errnoText(e)}`);
  }
}

// For create and `run -d`: checked, then connected when the container has a terminal.
export function detachedConsole(spec: Spec, socketPath: string | undefined): number | undefined {
  const terminal = !!spec.process?.terminal;
  checkTerminal(terminal, true, socketPath);
  return terminal ? connectConsoleSocket(socketPath!) : undefined;
}
