// `ocirun events <id>`: stats once (--stats) or a stream of stats and OOM events every --interval.
// Owns the flags and the checks runc makes before streaming.
import { parseGoDuration, printStatsOnce, streamEvents } from '../container/events';
import { status } from '../container/state';
import { validateId } from '../container/id';
import { UsageError } from './flags';
import { needArgs, store, type Command } from './command';

const cmd: Command = {
  usage: 'events',
  args: '<container-id>',
  flags: [
    { name: 'interval', type: 'string', usage: 'set the stats collection interval', default: '5s' },
    { name: 'stats', type: 'bool', usage: "display the container's stats then exit" },
  ],
  async run(g, f, args) {
    let interval: number;
    try {
      interval = parseGoDuration(f.interval as string);
    } catch {
      throw new UsageError(`invalid value ${JSON.stringify(f.interval)} for flag -interval: parse error`);
    }
    needArgs(args, 1, '', 'events');
    const s = store(g);
    const st = s.load(validateId(args[0]));
    if (interval <= 0) throw new Error('duration interval must be greater than 0');
    if (status(s, st) === 'stopped') throw new Error(`container with id ${st.id} is not running`);
    if (f.stats) return printStatsOnce(st.id, st.cgroupPaths);
    await streamEvents(st.id, st.cgroupPaths, interval);
  },
};
export default cmd;
