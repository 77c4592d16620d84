// Linux security module labels of the container: the AppArmor profile and SELinux process label that
// the kernel applies at the next execve, the SELinux key label, and the mount label as context=.
import { procfsWrite } from '../linux/procfs';
import { errnoText, isErrno } from '../linux/errors';

// Both attributes are read by the kernel at the next execve of this thread, so writing them
// before the exec.fifo wait (where an error can still reach `create`) is as good as right before exec.

/**
 * AppArmor's own attr directory (Linux 5.8+, needed when several LSMs are stacked), else the legacy
 * attr/exec, as libapparmor's aa_change_onexec does. With AppArmor off the kernel refuses the write
 * (EINVAL), and runc reports exactly that, so no enabled check is made up front.
 */
export function applyAppArmorProfile(profile: string | undefined): void {
  if (!profile) return;
  let attr = 'apparmor/exec';
  try {
    try {
      procfsWrite(`self/attr/${attr}`, `exec ${profile}`);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      attr = 'exec';
      procfsWrite(`self/attr/${attr}`, `exec ${profile}`);
    }
  } catch (e) {
    throw new Error(
      `process.apparmorProfile: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/${attr}: ${errnoText(e)}`,
    );
  }
}

// create refuses an SELinux label when SELinux is off (src/container/preflight.ts), so these only run
// where the kernel can take them.
export function setExecLabel(label: string | undefined): void {
  if (!label) return;
  try {
    procfsWrite('self/attr/exec', label);
  } catch (e) {
    throw new Error(`process.selinuxLabel: can't set process label: write /proc/self/attr/exec: ${errnoText(e)}`);
  }
}

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

/** The labels the user's program is exec'd with. */
export function applyExecLabels(p: { apparmorProfile?: string; selinuxLabel?: string }): void {
  applyAppArmorProfile(p.apparmorProfile);
  setExecLabel(p.selinuxLabel);
}
