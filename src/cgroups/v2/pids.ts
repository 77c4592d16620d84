// linux.resources.pids on cgroup2: pids.max, "max" for -1 and for 0 (runc 1.1 leaves the file alone for
// 0; the spec has no "unset" for a required field, and newer runc treats 0 as unlimited too).
import type { LinuxPids } from '../../oci';
import type { ApplyContext } from './context';
import { RESOURCES } from './files';

export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

export function setPids(ctx: ApplyContext, pids: LinuxPids | undefined): void {
  if (!pids) return;
  ctx.write('pids.max', pidsMax(pids.limit), `${RESOURCES}.pids.limit`);
}
