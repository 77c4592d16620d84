// v1 net_cls controller: the class id stamped on the container's packets.
import { R, num, set, writeValue, type Controller } from './fs';

export const netCls: Controller = {
  name: 'net_cls',
  requested: (r) => (set(r.network?.classID) ? [`${R}.network.classID`] : []),
  set(dir, r) {
    const id = r.network?.classID;
    if (set(id)) writeValue(dir, 'net_cls.classid', num(id), `${R}.network.classID`);
  },
};
