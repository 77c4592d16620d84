// `ocirun ps <id> [ps options]`: the container's processes, as the host's ps table or a JSON pid list.
// Owns --format; everything after the id goes to ps unparsed (so `-- -ef` passes "--" on, as in runc).
import { containerPids, psTable } from '../container/ps';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'ps',
  args: '<container-id> [ps options]',
  flags: [{ name: 'format', type: 'string', usage: 'select one of: table or json', aliases: ['f'], default: 'table' }],
  run(g, f, args) {
    needArgs(args, 1, '', 'ps', 'min');
    const s = store(g);
    const pids = containerPids(s.load(validateId(args[0])));
    if (f.format === 'json') {
      // Go encodes an empty (nil) slice as null.
      process.stdout.write((pids.length ? JSON.stringify(pids) : 'null') + '\n');
      return;
    }
    if (f.format !== 'table') throw new Error('invalid format option');
    process.stdout.write(psTable(pids, args.slice(1)));
  },
};
export default cmd;
