// What the runtime tells create's JS init in the INIT message: the spec plus host-side facts.
// Owns the InitConfig shape shared by src/container (sender) and src/init (receiver).
import type { Spec } from '../oci';

export interface CgroupMountInfo {
  controllers: string[];
  unified: boolean;
  // The container's cgroup directory on the host, bind-mounted into the container.
  dir: string;
}

export interface InitConfig {
  // The mount namespace linux.namespaces joins by path: the init enters it itself, after everything it
  // runs is loaded (src/init/mntns.ts).
  mntFd?: number;
  id: string;
  // The runtime's spec version, for the state JSON the init hands to createContainer/startContainer hooks.
  ociVersion: string;
  config: Spec;
  bundle: string;
  rootfs: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  // Fd numbers in the init process.
  fifoFd: number;
  cgroups: CgroupMountInfo[];
  // Host devices in a user namespace cannot be created, only bind-mounted.
  userns: boolean;
  // The host's /proc/sys/kernel/cap_last_cap, read by the runtime (lastCap in src/container/preflight.ts).
  lastCap: number;
  // Fds of detached id-mapped trees made by the runtime, by index into config.mounts.
  mountFds?: Record<string, number>;
  // A new cgroup namespace is the init's to make, once the runtime has moved it into its cgroups (the
  // namespace's root is the cgroup it is made in).
  cgroupns?: boolean;
  // process.terminal: the connected console socket that receives the pty master (src/init/console.ts).
  consoleFd?: number;
}
