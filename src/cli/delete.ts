// `ocirun delete <id>`: removes a container and everything it holds.
// Owns --force and the "missing container with --force is fine" rule runc has.
import * as fs from 'node:fs';
import { deleteContainer } from '../container/delete';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'delete',
  args: '<container-id>',
  flags: [{ name: 'force', type: 'bool', usage: 'Forcibly deletes the container if it is still running (uses SIGKILL)', aliases: ['f'] }],
  run(g, f, args) {
    needArgs(args, 1, 'container id', 'delete');
    const s = store(g);
    const id = validateId(args[0]);
    let st;
    try {
      s.lock(id);
      st = s.load(id);
    } catch (e) {
      if ((e as Error).message !== 'container does not exist') throw e;
      // A create that died before writing state.json leaves only the directory behind.
      fs.rmSync(s.dir(id), { recursive: true, force: true });
      if (f.force) return;
      throw e;
    }
    deleteContainer(s, st, !!f.force);
  },
};
export default cmd;
