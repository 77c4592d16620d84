// linux.resources.cpu.cpus/mems on cgroup2: cpuset.cpus and cpuset.mems, written as given (the kernel
// parses and checks the list; an empty string leaves the file alone, as runc does).
import type { LinuxCPU } from '../../oci';
import type { ApplyContext } from './context';
import { RESOURCES } from './files';

export function setCpuset(ctx: ApplyContext, cpu: LinuxCPU | undefined): void {
  if (cpu?.cpus) ctx.write('cpuset.cpus', cpu.cpus, `${RESOURCES}.cpu.cpus`);
  if (cpu?.mems) ctx.write('cpuset.mems', cpu.mems, `${RESOURCES}.cpu.mems`);
}
