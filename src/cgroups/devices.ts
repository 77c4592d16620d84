// The device rules a container's cgroup gets, for every driver: the config's linux.resources.devices
// followed by runc's default allow list (specconv's AllowedDevices), as runc 1.1 builds them.
import type { LinuxDeviceCgroup, Spec } from '../oci';

interface DefaultRule extends LinuxDeviceCgroup {
  // The device node the rule is for: a linux.devices entry with the same path replaces the rule.
  path?: string;
}

const DEFAULTS: DefaultRule[] = [
  // mknod of any device; opening one needs an allow rule of its own.
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm', path: '/dev/null' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm', path: '/dev/random' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm', path: '/dev/full' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm', path: '/dev/tty' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm', path: '/dev/zero' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm', path: '/dev/urandom' },
  // /dev/pts/* and /dev/ptmx.
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  // /dev/net/tun.
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

// runc's specconv.AllowedDevices, as the rules every driver receives after the config's own.
export const defaultDeviceRules = (): LinuxDeviceCgroup[] => DEFAULTS.map(({ path: _p, ...rule }) => rule);

// runc drops a default whose path the config lists in linux.devices (the config's entry "takes priority",
// though runc then allows nothing for it unless resources.devices does): kept for compatibility.
export function deviceRules(spec: Spec): LinuxDeviceCgroup[] {
  const listed = new Set((spec.linux?.devices ?? []).map((d) => d.path));
  const defaults = DEFAULTS.filter((d) => !d.path || !listed.has(d.path)).map(({ path: _p, ...rule }) => rule);
  return [...(spec.linux?.resources?.devices ?? []), ...defaults];
}
