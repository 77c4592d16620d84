// linux.resources.devices on cgroup2: build the filter program and install it on the directory.
// Like runc, a failure to load/attach is tolerated only where it cannot weaken anything: inside a
// user namespace (bpf(2) is not allowed there) or when every rule is an "allow rwm" (never with
// runc's default rules appended, so in practice: only in a user namespace).
import * as fs from 'node:fs';
import type { LinuxDeviceCgroup } from '../../oci';
import type { ApplyContext } from './context';
import { buildDeviceProgram, rulesFromSpec } from './devicefilter';
import { installDeviceFilter, type DeviceFilterInstaller } from './ebpf';

export interface DeviceOptions {
  // The kernel seam: unit tests record the program instead of loading it.
  installDeviceFilter?: DeviceFilterInstaller;
}

function inUserNamespace(): boolean {
  try {
    const m = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(m[0] === '0' && m[1] === '0' && m[2] === '4294967295');
  } catch {
    return false;
  }
}

// Without devices (an update of other resources) the installed program stays as it is.
export function setDevices(ctx: ApplyContext, devices: LinuxDeviceCgroup[] | undefined, opts: DeviceOptions): void {
  if (devices === undefined) return;
  const specRules = rulesFromSpec(devices);
  const program = buildDeviceProgram(specRules);
  const install = opts.installDeviceFilter ?? installDeviceFilter;
  try {
    install(ctx.dir, program.bytes);
  } catch (e) {
    // Checked over the full list, runc's defaults included (their "c *:* m" is not rwm), as runc does.
    const harmless = specRules.every((r) => r.allow && [...'rwm'].every((c) => r.access.includes(c)));
    if (inUserNamespace() || harmless) {
      ctx.warn(`linux.resources.devices: cannot install the device filter, continuing without it: ${(e as Error).message}`);
      return;
    }
    throw new Error(`linux.resources.devices: cannot install the device filter: ${(e as Error).message}`);
  }
}
