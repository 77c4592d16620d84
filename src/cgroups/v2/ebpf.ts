// Loads the device filter with bpf(BPF_PROG_LOAD) and attaches it to the cgroup directory with
// BPF_F_ALLOW_MULTI, detaching the programs attached before it (a previous apply/update), as runc does.
import * as fs from 'node:fs';
import { libc } from '../../linux/libc';
import { BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE, O_CLOEXEC } from '../../linux/constants';

// runc's license string (the kernel's MODULE_LICENSE format); the program calls no GPL-only helpers.
export const DEVICE_FILTER_LICENSE = 'Apache';
export const DEVICE_FILTER_NAME = 'ocirun_devices';

export type DeviceFilterInstaller = (dir: string, program: Buffer) => void;

export const installDeviceFilter: DeviceFilterInstaller = (dir, program) => {
  const c = libc();
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    const old = c.bpfProgQuery(dirFd, BPF_CGROUP_DEVICE);
    const prog = c.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, program, DEVICE_FILTER_LICENSE, DEVICE_FILTER_NAME, BPF_CGROUP_DEVICE);
    try {
      // The new program goes on before the old ones come off, so there is no moment without a filter.
      c.bpfProgAttach(dirFd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    } finally {
      // The attachment holds its own reference; the program lives as long as it stays attached.
      fs.closeSync(prog);
    }
    for (const id of old) detachById(dirFd, id);
  } finally {
    fs.closeSync(dirFd);
  }
};

function detachById(dirFd: number, id: number): void {
  const c = libc();
  let fd: number;
  try {
    fd = c.bpfProgGetFdById(id);
  } catch (e) {
    // Gone meanwhile: nothing to detach.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    c.bpfProgDetach(dirFd, fd, BPF_CGROUP_DEVICE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

// The ids of the device programs attached to a cgroup directory (for tests and diagnostics).
export function attachedDeviceFilters(dir: string): number[] {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    return libc().bpfProgQuery(dirFd, BPF_CGROUP_DEVICE);
  } finally {
    fs.closeSync(dirFd);
  }
}
