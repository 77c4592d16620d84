// v1 pids controller: pids.max, where runc reads a negative limit as "max" and 0 as "leave as it is".
import { R, num, type Controller, writeValue } from './fs';

export const pids: Controller = {
  name: 'pids',
  requested: (r) => (r.pids && r.pids.limit !== 0 ? [`${R}.pids.limit`] : []),
  set(dir, r) {
    const l = r.pids?.limit;
    if (l === undefined || l === 0) return;
    writeValue(dir, 'pids.max', l > 0 ? num(l) : 'max', `${R}.pids.limit`);
  },
};
