// `ocirun kill <id> [signal]`: signals the container's init (or all its processes with --all).
// Owns the kill flags.
import { parseSignal } from '../container/signals';
import { signalContainer } from '../container/kill';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'kill',
  args: '<container-id> [signal]',
  flags: [{ name: 'all', type: 'bool', usage: 'send the specified signal to all processes inside the container', aliases: ['a'] }],
  run(g, f, args) {
    needArgs(args, 1, 'container id', 'kill', 'min');
    if (args.length > 2) throw new Error('"kill" requires a maximum of 2 arguments');
    const s = store(g);
    const id = validateId(args[0]);
    const sig = parseSignal(args[1]);
    s.lock(id);
    const st = s.load(id);
    signalContainer(s, st, sig, !!f.all);
  },
};
export default cmd;
