// `ocirun state <id>`: prints runc's state JSON.
// Owns its output format (two-space indented, like runc).
import { publicState } from '../container/state';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'state',
  args: '<container-id>',
  flags: [],
  run(g, _f, args) {
    needArgs(args, 1, 'container id', 'state');
    const s = store(g);
    const st = s.load(validateId(args[0]));
    process.stdout.write(JSON.stringify(publicState(s, st), null, '  ') + '\n');
  },
};
export default cmd;
