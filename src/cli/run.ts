// `ocirun run <id>`: create + start, then (unless --detach) wait for the container, forwarding
// signals, and delete it, exiting with its status (128+N for a signal death), as runc does.
import { create } from '../container/create';
import { start } from '../container/start';
import { destroy } from '../container/delete';
import { libc } from '../linux/libc';
import { needArgs, store, type Command } from './command';
import { exitCode, forwardSignals } from '../process/forward';
import { CREATE_FLAGS, createOptions } from './create';
import { stdioPipes, type StdioPipes } from '../container/stdio';
import type { Spec } from '../oci';
import { checkTerminal, detachedConsole } from '../container/console';
import { proxyTerminal, receiveMaster, type TerminalProxy } from '../process/tty';
import { withFd } from '../linux/inroot';
import * as C from '../linux/constants';
import { NotifyProxy, notifyHost } from '../container/notify';

// The host ids that container root maps to: the owner the stdio pipes need.
export function containerRoot(spec: Spec): [number, number] {
  const host = (m?: { containerID: number; hostID: number; size: number }[]) =>
    m?.find((x) => x.containerID <= 0 && 0 < x.containerID + x.size)?.hostID ?? 0;
  return [host(spec.linux?.uidMappings), host(spec.linux?.gidMappings)];
}

// As subreaper we inherit the container's orphans (without a pid namespace, or its init's own exit): every child is
// reaped as it exits, until the init's status comes. Other children of ours (the stub) are long gone by now.
async function waitInit(pid: number, reaper: boolean): Promise<number> {
  for (;;) {
    const r = await libc().waitpidAsync(reaper ? -1 : pid);
    if (r.pid === pid) return r.status;
  }
}

const cmd: Command = {
  usage: 'run',
  args: '<container-id>',
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', type: 'bool', usage: 'detach from the container\'s process', aliases: ['d'] },
    { name: 'keep', type: 'bool', usage: 'do not delete the container after it exits' },
    { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' },
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
    let notify: NotifyProxy | undefined;
    try {
      // The init becomes our child through the subreaper bit even with --no-subreaper (runc's init is its child
      // by CLONE_PARENT); the flag then drops it as soon as create is done, before start, so that no orphan of
      // the container's, however early, lands on us, as in runc.
      st = create(s, { ...o, systemdCgroup: g.systemdCgroup, subreaper: !detach, stdio, console: consoleFor });
      if (f['no-subreaper'] && !detach) libc().prctl(C.PR_SET_CHILD_SUBREAPER, 0);
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
        const host = notifyHost();
        if (host) notify = NotifyProxy.listen(s.dir(st.id), host);
        start(s, st, st.bundle);
      } catch (e) {
        notify?.close();
        // A failed hook has already destroyed the container (and run poststop).
        if (s.exists(st.id)) destroy(s, st, st.bundle);
        throw e;
      }
    } catch (e) {
      throw new Error(`ocirun run failed: ${(e as Error).message}`);
    }
    const pid = st.pid;
    if (!pipes && !term) {
      // run -d waits for READY like create/start does (runc: MAINPID is the container's init).
      try {
        notify?.waitSync(pid, pid);
      } catch {
        /* runc ignores a failing host socket here */
      }
      return 0;
    }
    const reaper = !f['no-subreaper'];
    // In the foreground we stay the process to watch: MAINPID is ours.
    const notifying = notify?.waitAsync(pid, process.pid);
    const copied = term ? term.done : (pipes as StdioPipes).copy();
    const unforward = forwardSignals(pid);
    const status = await waitInit(pid, reaper);
    notifying?.stop();
    unforward();
    await copied;
    term?.close();
    if (!f.keep) destroy(s, st, st.bundle);
    return exitCode(status);
  },
};
export default cmd;
