// linux.resources.hugepageLimits on cgroup2: hugetlb.<pageSize>.max, the page size as the kernel names
// it ("2MB", "1GB"); an unknown size has no file and is an error naming the entry.
import type { LinuxHugepageLimit } from '../../oci';
import type { ApplyContext } from './context';
import { RESOURCES } from './files';

export function setHugetlb(ctx: ApplyContext, limits: LinuxHugepageLimit[] | undefined): void {
  (limits ?? []).forEach((h, i) => {
    const field = `${RESOURCES}.hugepageLimits[${i}]`;
    if (!/^\d+[KMG]B$/.test(h.pageSize)) throw new Error(`${field}.pageSize: not a page size like "2MB": ${JSON.stringify(h.pageSize)}`);
    ctx.write(`hugetlb.${h.pageSize}.max`, String(h.limit), `${field}.limit`);
  });
}
