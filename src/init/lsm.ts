// Linux security module labels of create's init: the SELinux key label, and the mount label as context=.
// (The AppArmor profile and SELinux process label are written by the stub's final stage: stub/stage.c.)
import { procfsWrite } from '../linux/procfs';
import { errnoText } from '../linux/errors';

/** The session keyring the init joins is created with the process label, as runc does. */
export function setKeyLabel(label: string | undefined): void {
  if (!label) return;
  try {
    procfsWrite('self/attr/keycreate', label);
  } catch (e) {
    throw new Error(`process.selinuxLabel: can't set key label: write /proc/self/attr/keycreate: ${errnoText(e)}`);
  }
}

// runc labels every filesystem it mounts except these: procfs and sysfs label themselves, mqueue is
// labelled as a file, and cgroup filesystems take no context= option.
const UNLABELLED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind']);

/** Mount data with linux.mountLabel appended as SELinux context=, quoted as go-selinux does. */
export function labelMountData(data: string, label: string | undefined, fstype: string | undefined): string {
  if (!label || UNLABELLED.has(fstype ?? '')) return data;
  const context = `context=${JSON.stringify(label)}`;
  return data ? `${data},${context}` : context;
}
