// `ocirun start <id>`: lets a created container's process run.
// Owns argument checking; the work is in container/start.ts.
import { start } from '../container/start';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'start',
  args: '<container-id>',
  flags: [],
  run(g, _f, args) {
    needArgs(args, 1, 'container id', 'start');
    const s = store(g);
    const id = validateId(args[0]);
    s.lock(id);
    const st = s.load(id);
    start(s, st);
  },
};
export default cmd;
