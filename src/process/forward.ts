// What a foreground `run` or `exec` does with the signals it gets: passes them to the container's process,
// as runc does, and the exit code it reports for that process's wait status.
import * as os from 'node:os';

// Every signal a terminal, an engine or a user may send goes to the container's init instead of us, as runc 1.1.5's
// signal.Notify() of everything does, and exactly the same set (the differential test compares): not SIGCHLD (ours),
// SIGWINCH (runc resizes its terminal instead), SIGPROF (Go's runtime keeps it; we drop it), SIGKILL/SIGSTOP (not catchable);
// SIGURG is forwarded as runc 1.1.5 does. Left out, unlike runc: SIGSEGV/SIGBUS/SIGFPE/SIGILL (handling them would
// hide our own crashes) and the real-time signals (Node cannot listen for them).
const FORWARDED = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGIO', 'SIGPWR', 'SIGSYS',
] as const;
// Caught and dropped, as Go's runtime does with it: its default action would kill us.
const SWALLOWED = ['SIGPROF'] as const;

// Forwards until the returned function is called. SIGWINCH is not among them: with a terminal it resizes
// the pty (the kernel then signals the process), as in runc.
export function forwardSignals(pid: number): () => void {
  const forward = (name: (typeof FORWARDED)[number]) => () => {
    try {
      process.kill(pid, os.constants.signals[name]);
    } catch {
      /* exited */
    }
  };
  const swallow = () => {};
  const handlers: [NodeJS.Signals, () => void][] = [
    ...FORWARDED.map((name) => [name, forward(name)] as [NodeJS.Signals, () => void]),
    ...SWALLOWED.map((name) => [name, swallow] as [NodeJS.Signals, () => void]),
  ];
  for (const [name, h] of handlers) process.on(name, h);
  return () => {
    for (const [name, h] of handlers) process.off(name, h);
  };
}

// 128+N after a signal, as runc (and a shell) report it.
export function exitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}
