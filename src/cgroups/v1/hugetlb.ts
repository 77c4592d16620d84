// v1 hugetlb controller: hugetlb.<size>.limit_in_bytes per page size, and the .rsvd limit where the kernel has it.
import { CgroupWriteError, R, num, writeValue, type Controller } from './fs';

export const hugetlb: Controller = {
  name: 'hugetlb',
  requested: (r) => (r.hugepageLimits?.length ? [`${R}.hugepageLimits`] : []),
  set(dir, r) {
    let rsvd = true;
    (r.hugepageLimits ?? []).forEach((h, i) => {
      const field = `${R}.hugepageLimits[${i}]`;
      const prefix = `hugetlb.${h.pageSize}`;
      writeValue(dir, `${prefix}.limit_in_bytes`, num(h.limit), field);
      if (!rsvd) return;
      try {
        writeValue(dir, `${prefix}.rsvd.limit_in_bytes`, num(h.limit), field);
      } catch (e) {
        // Kernels before 5.7 have no reservation accounting.
        if (!(e instanceof CgroupWriteError && e.code === 'ENOENT')) throw e;
        rsvd = false;
      }
    });
  },
};
