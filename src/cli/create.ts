// `ocirun create <id>`: sets up a container whose process waits for `start`.
// Owns the create flags.
import { create } from '../container/create';
import { detachedConsole } from '../container/console';
import { needArgs, store, type Command } from './command';
import type { FlagDef } from './flags';
import { listenFds, checkPassedFds } from '../container/passfds';
import { notifyHost } from '../container/notify';

export const CREATE_FLAGS: FlagDef[] = [
  { name: 'bundle', type: 'string', usage: 'path to the root of the bundle directory, defaults to the current directory', aliases: ['b'] },
  { name: 'console-socket', type: 'string', usage: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
  { name: 'pid-file', type: 'string', usage: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'bool', usage: 'do not use pivot root to jail process inside rootfs' },
  { name: 'no-new-keyring', type: 'bool', usage: 'do not create a new session keyring for the container' },
  { name: 'preserve-fds', type: 'int', usage: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
];

export function createOptions(f: Record<string, unknown>, id: string) {
  const preserve = (f['preserve-fds'] as number) ?? 0;
  if (preserve < 0) throw new Error('--preserve-fds: must be zero or positive');
  // Checked before anything is made: a missing fd must not become one of ours in the container.
  checkPassedFds(preserve);
  return {
    id,
    bundle: (f.bundle as string | undefined) ?? '.',
    pidFile: f['pid-file'] as string | undefined,
    noPivot: !!f['no-pivot'],
    noNewKeyring: !!f['no-new-keyring'],
    preserveFds: preserve,
    consoleSocket: (f['console-socket'] as string | undefined) || undefined,
    listenFds: listenFds(),
    notifySocket: notifyHost(),
  };
}

const cmd: Command = {
  usage: 'create',
  args: '<container-id>',
  flags: CREATE_FLAGS,
  run(g, f, args) {
    needArgs(args, 1, 'container id', 'create');
    try {
      const o = createOptions(f, args[0]);
      create(store(g), { ...o, systemdCgroup: g.systemdCgroup, console: (spec) => detachedConsole(spec, o.consoleSocket) });
    } catch (e) {
      throw new Error(`ocirun create failed: ${(e as Error).message}`);
    }
  },
};
export default cmd;
