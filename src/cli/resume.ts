// `ocirun resume <id>`: thaws a paused container.
// Owns the command's arguments; the rules live in src/container/pause.ts.
import { resumeContainer } from '../container/pause';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'resume',
  args: '<container-id>',
  flags: [],
  run(g, _f, args) {
    needArgs(args, 1, '', 'resume');
    const s = store(g);
    const id = validateId(args[0]);
    s.lock(id);
    resumeContainer(s, s.load(id));
  },
};
export default cmd;
