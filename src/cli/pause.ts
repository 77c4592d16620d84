// `ocirun pause <id>`: suspends every process of the container (the cgroup freezer).
// Owns the command's arguments; the rules live in src/container/pause.ts.
import { pauseContainer } from '../container/pause';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'pause',
  args: '<container-id>',
  flags: [],
  run(g, _f, args) {
    needArgs(args, 1, '', 'pause');
    const s = store(g);
    const id = validateId(args[0]);
    // Held across the freeze, so a concurrent kill --all or delete cannot leave it frozen and orphaned.
    s.lock(id);
    pauseContainer(s, s.load(id));
  },
};
export default cmd;
