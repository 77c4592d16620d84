// linux.resources.rdma on cgroup2 (same file as v1): one rdma.max line per device,
// "<device> hca_handle=N hca_object=M" with only the limits given.
import type { LinuxRdma } from '../../oci';
import type { ApplyContext } from './context';
import { RESOURCES } from './files';

export function rdmaLine(device: string, r: LinuxRdma): string {
  let line = device;
  if (r.hcaHandles !== undefined) line += ` hca_handle=${r.hcaHandles}`;
  if (r.hcaObjects !== undefined) line += ` hca_object=${r.hcaObjects}`;
  return line;
}

export function setRdma(ctx: ApplyContext, rdma: Record<string, LinuxRdma> | undefined): void {
  for (const [device, r] of Object.entries(rdma ?? {})) {
    ctx.write('rdma.max', rdmaLine(device, r), `${RESOURCES}.rdma.${device}`);
  }
}
