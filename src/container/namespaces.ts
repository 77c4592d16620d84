// OCI namespace entries to stub instructions: which namespaces to create (clone flags) and which to join.
// Owns the type -> CLONE_NEW* table, opening and vetting the paths to join, and the joined user namespace's mappings.
import { NS_GET_NSTYPE, O_CLOEXEC } from '../linux/constants';
import * as fs from 'node:fs';
import type { LinuxIDMapping, LinuxNamespace, Spec } from '../oci';
import { libc } from '../linux/libc';
import * as C from '../linux/constants';

export const NS_FLAGS: Record<string, number> = {
  pid: C.CLONE_NEWPID, network: C.CLONE_NEWNET, mount: C.CLONE_NEWNS, ipc: C.CLONE_NEWIPC,
  uts: C.CLONE_NEWUTS, user: C.CLONE_NEWUSER, cgroup: C.CLONE_NEWCGROUP, time: C.CLONE_NEWTIME,
};

// The kernel's own names (/proc/<pid>/ns/*), for messages about what a path really is.
const KERNEL_NAMES: Record<number, string> = {
  [C.CLONE_NEWPID]: 'pid', [C.CLONE_NEWNET]: 'net', [C.CLONE_NEWNS]: 'mnt', [C.CLONE_NEWIPC]: 'ipc',
  [C.CLONE_NEWUTS]: 'uts', [C.CLONE_NEWUSER]: 'user', [C.CLONE_NEWCGROUP]: 'cgroup', [C.CLONE_NEWTIME]: 'time',
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
      plan.join.push({ fd: openNamespace(`linux.namespaces[${i}].path`, n.path, flag), type: flag });
    }
  } catch (e) {
    closePlan(plan);
    throw e;
  }
  return plan;
}

// setns() would only say EINVAL for a wrong file, and only inside the stub; the nsfs ioctl names
// what the file really is while nothing has been started yet.
function openNamespace(where: string, file: string, flag: number): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_CLOEXEC);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new Error(`${where}: ${file}: ${why}`);
  }
  try {
    let actual: number;
    try {
      actual = libc().ioctl(fd, NS_GET_NSTYPE, 0);
    } catch {
      throw new Error(`${where}: ${file} is not a namespace file`);
    }
    if (actual !== flag) {
      const what = KERNEL_NAMES[actual] ?? `unknown (0x${actual.toString(16)})`;
      throw new Error(`${where}: ${file} is not a ${KERNEL_NAMES[flag]} namespace (it is a ${what} namespace)`);
    }
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

export function closePlan(plan: NamespacePlan): void {
  for (const j of plan.join) fs.closeSync(j.fd);
  plan.join = [];
}

export function parseIdMap(text: string): LinuxIDMapping[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
}

const mapKey = (m: LinuxIDMapping[]) =>
  m
    .map((x) => `${x.containerID}:${x.hostID}:${x.size}`)
    .sort()
    .join(' ');

/**
 * A joined user namespace brings its own mappings. Mappings in the config may only restate them
 * (containerd and CRI-O send both); different ones would make every uid computed from them wrong.
 * `pid` is any process already inside that namespace (the container's init).
 */
export function checkJoinedUserMappings(spec: Spec, pid: number): void {
  const linux = spec.linux ?? {};
  const i = (linux.namespaces ?? []).findIndex((n) => n.type === 'user' && n.path);
  if (i < 0) return;
  for (const [field, file] of [['uidMappings', 'uid_map'], ['gidMappings', 'gid_map']] as const) {
    const want = linux[field];
    if (!want?.length) continue;
    const have = parseIdMap(fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    if (mapKey(want) !== mapKey(have)) {
      const show = (m: LinuxIDMapping[]) => m.map((x) => `${x.containerID} ${x.hostID} ${x.size}`).join(', ') || 'none';
      throw new Error(
        `linux.${field}: [${show(want)}] do not match the mappings of the joined user namespace ` +
          `linux.namespaces[${i}].path (${linux.namespaces![i].path}): [${show(have)}]`,
      );
    }
  }
}
