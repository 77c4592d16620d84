// The config.json template that `spec` writes (runc's example spec, as in
// current runc), plus its rootless rewrite and the spec version we speak.

import { existsSync } from 'node:fs';
import type { LinuxNamespace, Mount, Spec } from './spec';

export const OCI_VERSION = '1.3.0';

export interface SpecTemplateOptions {
  rootless: boolean;
  /** Host ids mapped to root for rootless; default: this process's euid/egid. */
  hostUid?: number;
  hostGid?: number;
  /**
   * Add a cgroup namespace, as runc does on a cgroup v2 (unified) host.
   * Default: detected from /sys/fs/cgroup.
   */
  cgroupNamespace?: boolean;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/**
 * A fresh template each call. Keys are created in the order runc's Go structs
 * marshal them, so JSON.stringify(spec, null, '\t') reads like runc's file.
 */
export function specTemplate(opts: SpecTemplateOptions): Spec {
  const namespaces: LinuxNamespace[] = [
    { type: 'pid' },
    { type: 'network' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (opts.cgroupNamespace ?? isCgroup2Host()) namespaces.push({ type: 'cgroup' });

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return opts.rootless ? toRootless(spec, opts) : spec;
}

// What an unprivileged user can actually set up: its own user namespace
// mapping only itself, the host's network, /sys bound in instead of a new
// sysfs (which needs a network namespace owned by us), no gid= for devpts
// (gid 5 is unmapped) and no cgroup limits.
function toRootless(spec: Spec, opts: SpecTemplateOptions): Spec {
  const linux = spec.linux!;
  const namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  namespaces.push({ type: 'user' });

  const mounts: Mount[] = (spec.mounts ?? []).map((m) => {
    if (normalize(m.destination) === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    if (m.options === undefined) return m;
    const options = m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    if (options.length > 0) return { ...m, options };
    // Go marshals the emptied list as absent.
    const { options: _emptied, ...bare } = m;
    return bare;
  });

  // Rebuilt rather than patched so the keys keep runc's order
  // (uidMappings/gidMappings come first in its Linux struct).
  const { resources: _dropped, namespaces: _old, ...rest } = linux;
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: opts.hostUid ?? process.geteuid!(), size: 1 }],
    gidMappings: [{ containerID: 0, hostID: opts.hostGid ?? process.getegid!(), size: 1 }],
    namespaces,
    ...rest,
  };
  spec.mounts = mounts;
  return spec;
}

// Enough of filepath.Clean for "/sys/" and "//sys" to match as runc's does.
function normalize(p: string): string {
  return p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
}

// Same test as runc's IsCgroup2UnifiedMode, without statfs: only the v2
// root carries cgroup.controllers.
function isCgroup2Host(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}
