// v1 rdma controller: one rdma.max line per device, "dev hca_handle=N hca_object=M" with the set limits only.
import { R, num, writeValue, type Controller } from './fs';

export const rdma: Controller = {
  name: 'rdma',
  requested: (r) => (r.rdma && Object.keys(r.rdma).length ? [`${R}.rdma`] : []),
  set(dir, r) {
    for (const dev of Object.keys(r.rdma ?? {}).sort()) {
      const l = r.rdma![dev];
      let line = dev;
      if (l.hcaHandles !== undefined) line += ` hca_handle=${num(l.hcaHandles)}`;
      if (l.hcaObjects !== undefined) line += ` hca_object=${num(l.hcaObjects)}`;
      writeValue(dir, 'rdma.max', line, `${R}.rdma.${dev}`);
    }
  },
};
