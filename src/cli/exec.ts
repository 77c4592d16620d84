// `ocirun exec <id> <command>...`: runc's flags, then (unless --detach) wait for the process,
// forwarding signals, and exit with its status (128+N for a signal death).
import { execInContainer } from '../container/exec';
import { stdioPipes } from '../container/stdio';
import { libc } from '../linux/libc';
import { WNOHANG } from '../linux/constants';
import { needArgs, store, type Command } from './command';
import { containerRoot } from './run';
import { exitCode, forwardSignals } from '../process/forward';
import { proxyTerminal } from '../process/tty';

const cmd: Command = {
  usage: 'exec',
  args: '<container-id> <command> [command options]  || -p process.json <container-id>',
  flags: [
    { name: 'console-socket', type: 'string', usage: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
    { name: 'cwd', type: 'string', usage: 'current working directory in the container' },
    { name: 'env', type: 'strings', usage: 'set environment variables', aliases: ['e'] },
    { name: 'tty', type: 'bool', usage: 'allocate a pseudo-TTY', aliases: ['t'] },
    { name: 'user', type: 'string', usage: 'UID (format: <uid>[:<gid>])', aliases: ['u'] },
    { name: 'additional-gids', type: 'strings', usage: 'additional gids', aliases: ['g'] },
    { name: 'process', type: 'string', usage: 'path to the process.json', aliases: ['p'] },
    { name: 'detach', type: 'bool', usage: 'detach from the container\'s process', aliases: ['d'] },
    { name: 'pid-file', type: 'string', usage: 'specify the file to write the process id to' },
    { name: 'process-label', type: 'string', usage: 'set the asm process label for the process commonly used with selinux' },
    { name: 'apparmor', type: 'string', usage: 'set the apparmor profile for the process' },
    { name: 'no-new-privs', type: 'bool', usage: 'set the no new privileges value for the process' },
    { name: 'cap', type: 'strings', usage: 'add a capability to the bounding set for the process', aliases: ['c'] },
    { name: 'preserve-fds', type: 'int', usage: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
    { name: 'cgroup', type: 'strings', usage: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
    { name: 'ignore-paused', type: 'bool', usage: 'allow exec in a paused container' },
  ],
  async run(g, f, args) {
    needArgs(args, 1, '', 'exec', 'min');
    const detach = !!f.detach;
    const preserveFds = (f['preserve-fds'] as number) ?? 0;
    let x;
    try {
      if (preserveFds < 0) throw new Error('--preserve-fds: must be zero or positive');
      x = await execInContainer(store(g), args[0], {
        processFile: f.process as string | undefined,
        flags: {
          args: args.slice(1),
          cwd: f.cwd as string | undefined,
          env: f.env as string[] | undefined,
          user: f.user as string | undefined,
          additionalGids: f['additional-gids'] as string[] | undefined,
          caps: f.cap as string[] | undefined,
          tty: f.tty as boolean | undefined,
          noNewPrivs: f['no-new-privs'] as boolean | undefined,
          apparmor: f.apparmor as string | undefined,
          processLabel: f['process-label'] as string | undefined,
        },
        detach,
        pidFile: f['pid-file'] as string | undefined,
        consoleSocket: f['console-socket'] as string | undefined,
        preserveFds,
        cgroup: f.cgroup as string[] | undefined,
        ignorePaused: !!f['ignore-paused'],
        // As runc: detached, the process inherits our stdio; in the foreground it gets pipes we copy.
        stdio: detach
          ? undefined
          : (st) => {
              const pipes = stdioPipes(...containerRoot(st.config));
              return { fds: pipes.container, pipes };
            },
      });
    } catch (e) {
      // runc: fatalWithCode(fmt.Errorf("exec failed: %w", err), 255).
      throw Object.assign(new Error(`exec failed: ${(e as Error).message}`), { exitCode: 255 });
    }
    if (detach) return 0;
    const pid = x.pid;
    const term = x.master !== undefined ? proxyTerminal(x.master) : undefined;
    const copied = term ? term.done : x.pipes?.copy();
    const unforward = forwardSignals(pid);
    // A short program is often gone already: no trip through the thread pool then.
    const now = libc().waitpid(pid, WNOHANG);
    const { status } = now.pid === pid ? now : await libc().waitpidAsync(pid);
    unforward();
    await copied;
    term?.close();
    return exitCode(status);
  },
};
export default cmd;
