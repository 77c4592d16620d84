// Tests for the `spec` template: it is Debian runc 1.1.5's template with the
// listed newer-runc changes, in runc's key order, and it passes validation.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OCI_VERSION, parseConfig, specTemplate, validateSpec, type Spec } from '../../src/oci';

// `runc spec` and `runc spec --rootless` from Debian's runc 1.1.5+ds1 (run as
// root, so the rootless mappings name host id 0), byte for byte.
const RUNC_115_SPEC = `{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}`;
const RUNC_115_ROOTLESS = `{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "none",
			"source": "/sys",
			"options": [
				"rbind",
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"uidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"gidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			},
			{
				"type": "user"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}`;

/** What current runc (libcontainer/specconv/example.go) changed since 1.1.5. */
function asNewerRunc(text: string): string {
  const spec = JSON.parse(text);
  spec.ociVersion = '1.3.0';
  delete spec.process.capabilities.ambient;
  spec.linux.maskedPaths.push('/sys/devices/virtual/tpm');
  return JSON.stringify(spec, null, '\t');
}

const render = (spec: Spec): string => JSON.stringify(spec, null, '\t');

describe('specTemplate', () => {
  it('is runc 1.1.5\'s template with the newer-runc changes, key order included', () => {
    expect(render(specTemplate({ rootless: false, cgroupNamespace: false }))).toBe(asNewerRunc(RUNC_115_SPEC));
  });

  it('rootless is runc 1.1.5\'s rootless template with the same changes', () => {
    const spec = specTemplate({ rootless: true, hostUid: 0, hostGid: 0, cgroupNamespace: false });
    expect(render(spec)).toBe(asNewerRunc(RUNC_115_ROOTLESS));
  });

  it('declares ociVersion 1.3.0', () => {
    expect(OCI_VERSION).toBe('1.3.0');
    expect(specTemplate({ rootless: false }).ociVersion).toBe('1.3.0');
  });

  it('maps the given host ids, defaulting to the effective ids', () => {
    const spec = specTemplate({ rootless: true, hostUid: 1234, hostGid: 5678, cgroupNamespace: false });
    expect(spec.linux!.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(spec.linux!.gidMappings).toEqual([{ containerID: 0, hostID: 5678, size: 1 }]);
    const dflt = specTemplate({ rootless: true });
    expect(dflt.linux!.uidMappings![0].hostID).toBe(process.geteuid!());
    expect(dflt.linux!.gidMappings![0].hostID).toBe(process.getegid!());
  });

  it('adds a cgroup namespace on request, before the rootless user namespace', () => {
    const types = (s: Spec): string[] => s.linux!.namespaces!.map((ns) => ns.type);
    expect(types(specTemplate({ rootless: false, cgroupNamespace: true }))).toEqual([
      'pid',
      'network',
      'ipc',
      'uts',
      'mount',
      'cgroup',
    ]);
    expect(types(specTemplate({ rootless: true, cgroupNamespace: true }))).toEqual([
      'pid',
      'ipc',
      'uts',
      'mount',
      'cgroup',
      'user',
    ]);
  });

  it('follows the host cgroup mode when not told', () => {
    const v2 = spawnSync('stat', ['-fc', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim() === 'cgroup2fs';
    const types = specTemplate({ rootless: false }).linux!.namespaces!.map((ns) => ns.type);
    expect(types.includes('cgroup')).toBe(v2);
  });

  it('returns a fresh object each call', () => {
    const a = specTemplate({ rootless: false, cgroupNamespace: false });
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    a.mounts![0].destination = '/elsewhere';
    const b = specTemplate({ rootless: false, cgroupNamespace: false });
    expect(b.process!.capabilities!.bounding).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(b.mounts![0].destination).toBe('/proc');
    expect(b.process!.capabilities!.effective).not.toBe(b.process!.capabilities!.bounding);
  });

  it('passes validation in every variant', () => {
    for (const rootless of [false, true]) {
      for (const cgroupNamespace of [false, true]) {
        const spec = specTemplate({ rootless, cgroupNamespace });
        expect(() => validateSpec(spec)).not.toThrow();
        expect(parseConfig(render(spec))).toEqual(spec);
      }
    }
  });
});

describe('runc 1.1.5 templates', () => {
  it('pass validation as written by runc', () => {
    expect(parseConfig(RUNC_115_SPEC).ociVersion).toBe('1.0.2-dev');
    expect(parseConfig(RUNC_115_ROOTLESS).linux!.namespaces!.at(-1)).toEqual({ type: 'user' });
  });

  // Guards the fixtures above against drift where that runc is installed.
  const runc = spawnSync('runc', ['--version'], { encoding: 'utf8' });
  const is115 = runc.status === 0 && /^runc version 1\.1\.5\b/.test(runc.stdout);
  it.skipIf(!is115 || process.geteuid!() !== 0)('match what the installed runc 1.1.5 writes', () => {
    for (const [args, expected] of [
      [['spec'], RUNC_115_SPEC],
      [['spec', '--rootless'], RUNC_115_ROOTLESS],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'ocirun-spec-'));
      try {
        const r = spawnSync('runc', [...args], { cwd: dir, encoding: 'utf8' });
        expect(r.status).toBe(0);
        expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
