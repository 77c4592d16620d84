// `ocirun run <id>`: create + start, then (unless --detach) wait for the container, forwarding
// signals, and delete it, exiting with its status (128+N for a signal death), as runc does.
import * as os from 'node:os';
import { create } from '../container/create';
import { start } from '../container/start';
import { destroy } from '../container/delete';
import { libc } from '../linux/libc';
import { needArgs, store, type Command } from './command';
import { CREATE_FLAGS, createOptions } from './create';
import { stdioPipes, type StdioPipes } from '../container/stdio';
import type { Spec } from '../oci';
import { checkTerminal, detachedConsole } from '../container/console';
import { proxyTerminal, receiveMaster, type TerminalProxy } from '../process/tty';
import { withFd } from '../linux/inroot';

// The host ids that container root maps to: the owner the stdio pipes need.
export function containerRoot(spec: Spec): [number, number] {
  const host = (m?: { containerID: number; hostID: number; size: number }[]) =>
    m?.find((x) => x.containerID <= 0 && 0 < x.containerID + x.size)?.hostID ?? 0;
  return [host(spec.linux?.uidMappings), host(spec.linux?.gidMappings)];
}

// Everything a terminal or an engine may send that the container should get instead of us.
export const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'] as const;

export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

const cmd: Command = {
  usage: 'run',
  args: '<container-id>',
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', type: 'bool', usage: 'detach from the container\'s process', aliases: ['d'] },
    { name: 'keep', type: 'bool', usage: 'do not delete the container after it exits' },
  ],
  async run(g, f, args) {
    needArgs(args, 1, 'container id', 'run');
    const s = store(g);
    const detach = !!f.detach;
    let pipes: StdioPipes | undefined;
    const o = createOptions(f, args[0]);
    // Foreground with process.terminal: our own socketpair is the console socket, we proxy the pty.
    let consoleSock: number | undefined;
    const consoleFor = (spec: Spec): number | undefined => {
      if (detach) return detachedConsole(spec, o.consoleSocket);
      checkTerminal(!!spec.process?.terminal, false, o.consoleSocket);
      if (!spec.process?.terminal) return undefined;
      const [ours, theirs] = libc().socketpair();
      consoleSock = ours;
      return theirs;
    };
    const stdio = detach
      ? undefined
      : (spec: Spec) => (spec.process?.terminal ? ([0, 1, 2] as [number, number, number]) : (pipes = stdioPipes(...containerRoot(spec))).container);
    let st;
    let term: TerminalProxy | undefined;
    try {
      st = create(s, { ...o, systemdCgroup: g.systemdCgroup, subreaper: !detach, stdio, console: consoleFor });
      if (consoleSock !== undefined) {
        const sock = consoleSock;
        try {
          term = proxyTerminal(withFd(sock, receiveMaster));
        } catch (e) {
          destroy(s, st, st.bundle);
          throw e;
        }
      }
      try {
        start(s, st, st.bundle);
      } catch (e) {
        // A failed hook has already destroyed the container (and run poststop).
        if (s.exists(st.id)) destroy(s, st, st.bundle);
        throw e;
      }
    } catch (e) {
      throw new Error(`ocirun run failed: ${(e as Error).message}`);
    }
    const pid = st.pid;
    if (!pipes && !term) return 0;
    const copied = term ? term.done : (pipes as StdioPipes).copy();
    // With a terminal SIGWINCH resizes the pty instead (the kernel signals the process then), as in runc.
    const handlers = FORWARDED.filter((name) => !(term && name === 'SIGWINCH')).map((name) => {
      const h = () => {
        try {
          process.kill(pid, os.constants.signals[name]);
        } catch {
          /* exited */
        }
      };
      process.on(name, h);
      return [name, h] as const;
    });
    const { status } = await libc().waitpidAsync(pid);
    for (const [name, h] of handlers) process.off(name, h);
    await copied;
    term?.close();
    if (!f.keep) destroy(s, st, st.bundle);
    return exitCode(status);
  },
};
export default cmd;
