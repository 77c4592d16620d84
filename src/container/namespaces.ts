// OCI namespace entries to stub instructions: which namespaces to create (clone flags) and which to join.
// Owns the type -> CLONE_NEW* table and opening the paths of namespaces to join.
import { O_CLOEXEC } from '../linux/constants';
import * as fs from 'node:fs';
import type { LinuxNamespace } from '../oci';
import * as C from '../linux/constants';

export const NS_FLAGS: Record<string, number> = {
  pid: C.CLONE_NEWPID, network: C.CLONE_NEWNET, mount: C.CLONE_NEWNS, ipc: C.CLONE_NEWIPC,
  uts: C.CLONE_NEWUTS, user: C.CLONE_NEWUSER, cgroup: C.CLONE_NEWCGROUP, time: C.CLONE_NEWTIME,
};

export interface NamespacePlan {
  cloneFlags: number;
  join: { fd: number; type: number }[];
}

export function planNamespaces(list: LinuxNamespace[] = []): NamespacePlan {
  const plan: NamespacePlan = { cloneFlags: 0, join: [] };
  try {
    for (const [i, n] of list.entries()) {
      const flag = NS_FLAGS[n.type];
      if (flag === undefined) throw new Error(`linux.namespaces[${i}].type: unknown namespace type ${JSON.stringify(n.type)}`);
      if (!n.path) {
        plan.cloneFlags |= flag;
        continue;
      }
      try {
        plan.join.push({ fd: fs.openSync(n.path, fs.constants.O_RDONLY | O_CLOEXEC), type: flag });
      } catch (e) {
        throw new Error(`linux.namespaces[${i}].path: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    closePlan(plan);
    throw e;
  }
  return plan;
}

export function closePlan(plan: NamespacePlan): void {
  for (const j of plan.join) fs.closeSync(j.fd);
  plan.join = [];
}
