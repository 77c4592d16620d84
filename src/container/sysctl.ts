// Which linux.sysctl keys a container may set: only those its own namespaces isolate, as runc's
// validator decides, so a container can never change a host-wide kernel setting.
import type { Spec } from '../oci';

const IPC_KEYS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function checkSysctls(spec: Spec): void {
  const ns = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const at = `linux.sysctl[${JSON.stringify(key)}]`;
    if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) throw new Error(`${at}: sysctl "${key}" is not allowed in the hosts ipc namespace`);
    } else if (key.startsWith('net.')) {
      if (!ns.has('network')) throw new Error(`${at}: sysctl "${key}" is not allowed in the hosts network namespace`);
    } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
      if (!ns.has('uts')) throw new Error(`${at}: sysctl "${key}" is not allowed in the hosts uts namespace`);
    } else {
      throw new Error(`${at}: sysctl "${key}" is not in a separate kernel namespace`);
    }
  }
}
