// Signal names and numbers as `kill` accepts them: TERM, SIGTERM, 15, or RTMIN+n.
// Owns parseSignal.
import * as os from 'node:os';

export function parseSignal(arg: string | undefined): number {
  if (arg === undefined || arg === '') return os.constants.signals.SIGTERM;
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    if (n < 1 || n > 64) throw new Error(`unknown signal "${arg}"`);
    return n;
  }
  const name = arg.toUpperCase().startsWith('SIG') ? arg.toUpperCase() : `SIG${arg.toUpperCase()}`;
  const n = (os.constants.signals as Record<string, number>)[name];
  if (n !== undefined) return n;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const v = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    if (v >= 34 && v <= 64) return v;
  }
  throw new Error(`unknown signal "${arg}"`);
}
