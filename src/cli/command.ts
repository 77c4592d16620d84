// What every CLI command module exports, and the context the global flags give it.
// Owns the Command interface and helpers shared by the command files.
import type { FlagDef, FlagValues } from './flags';
import { Store } from '../container/state';
import { UsageError } from './flags';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
}

export interface Command {
  usage: string;
  args: string;
  flags: FlagDef[];
  /** Replaces the generated help; may throw to make `<cmd> --help` fail. */
  help?: () => void;
  run(g: GlobalOptions, flags: FlagValues, args: string[]): number | void | Promise<number | void>;
}

export const store = (g: GlobalOptions) => new Store(g.root);

// runc's checkArgs: the exact, minimum or maximum number of positional arguments.
export function needArgs(args: string[], n: number, what: string, cmd: string, mode: 'exact' | 'min' = 'exact'): void {
  const bad = mode === 'exact' ? args.length !== n : args.length < n;
  if (bad) throw new UsageError(`"${cmd}" requires ${mode === 'exact' ? 'exactly' : 'a minimum of'} ${n} argument(s)${what ? ` (${what})` : ''}`);
}
