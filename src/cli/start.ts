// `ocirun start <id>`: lets a created container's process run.
// Owns argument checking; the work is in container/start.ts.
import { start } from '../container/start';
import { validateId } from '../container/id';
import { needArgs, store, type Command } from './command';
import { NotifyProxy, notifyHost } from '../container/notify';

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
    // As runc: start binds the proxy's socket (in the directory create prepared) before it releases the init, then
    // waits for READY and forwards it with the init as MAINPID.
    const host = notifyHost();
    const notify = host ? NotifyProxy.listen(s.dir(id), host) : undefined;
    try {
      start(s, st);
    } catch (e) {
      notify?.close();
      throw e;
    }
    notify?.waitSync(st.pid, st.pid);
  },
};
export default cmd;
