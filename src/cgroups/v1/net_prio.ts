// v1 net_prio controller: one "interface priority" line per entry of network.priorities.
import { R, num, writeValue, type Controller } from './fs';

export const netPrio: Controller = {
  name: 'net_prio',
  requested: (r) => (r.network?.priorities?.length ? [`${R}.network.priorities`] : []),
  set(dir, r) {
    (r.network?.priorities ?? []).forEach((p, i) => writeValue(dir, 'net_prio.ifpriomap', `${p.name} ${num(p.priority)}`, `${R}.network.priorities[${i}]`));
  },
};
