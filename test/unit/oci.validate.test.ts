// Tests for config.json validation: every class of error with its exact JSON
// path and wording, cross-field namespace rules, and unknown-field handling.

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseProcess, SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS, validateSpec } from '../../src/oci';

type Cfg = any;

/** A config that exercises nearly every field with a legal value. */
function base(): Cfg {
  const ids = (): Cfg[] => [{ containerID: 0, hostID: 100000, size: 65536 }];
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      consoleSize: { height: 24, width: 80 },
      user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 6] },
      args: ['sh', '-c', 'true'],
      env: ['PATH=/bin', 'EMPTY=', 'DUP=1', 'DUP=2'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],
        effective: ['CAP_KILL'],
        inheritable: [],
        permitted: ['CAP_KILL'],
        ambient: [],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
        { type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 },
      ],
      noNewPrivileges: true,
      apparmorProfile: 'profile',
      oomScoreAdj: -1000,
      scheduler: { policy: 'SCHED_FIFO', priority: 10, nice: -20, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
      selinuxLabel: '',
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 7 },
      execCPUAffinity: { initial: '0-1', final: '0, 2' },
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    domainname: 'example.org',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: 'relative/dir', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] },
      { destination: '/data', source: '/srv', options: ['bind', 'idmap'], uidMappings: ids(), gidMappings: ids() },
    ],
    hooks: {
      prestart: [{ path: '/bin/true' }],
      createRuntime: [{ path: '/usr/bin/hook', args: ['hook', 'create'], env: ['A=b'], timeout: 5 }],
      poststop: [],
    },
    annotations: { 'org.example.key': 'value' },
    linux: {
      uidMappings: ids(),
      gidMappings: ids(),
      sysctl: { 'net.ipv4.ip_forward': '1' },
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
          { allow: true },
        ],
        memory: { limit: 536870912, reservation: -1, swap: -1, kernel: -1, swappiness: 60, disableOOMKiller: false },
        cpu: { shares: 1024, quota: -1, burst: 0, period: 100000, realtimeRuntime: 0, cpus: '0-3', mems: '0', idle: 1 },
        pids: { limit: -1 },
        blockIO: {
          weight: 500,
          leafWeight: 10,
          weightDevice: [{ major: 8, minor: 0, weight: 300 }, { major: 8, minor: 16, leafWeight: 1 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 300 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] },
        rdma: { mlx5_1: { hcaHandles: 3 } },
        unified: { 'memory.high': 'max' },
      },
      cgroupsPath: '/ocirun/test',
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'user' },
        { type: 'cgroup' },
        { type: 'time' },
      ],
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        { path: '/dev/fifo', type: 'p' },
      ],
      netDevices: { eth1: { name: 'ctr0' }, eth2: {} },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
          { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' },
          { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        ],
      },
      rootfsPropagation: 'rslave',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: '',
      intelRdt: { closID: 'guaranteed', schemata: ['L3:0=7f0'], enableMonitoring: true },
      personality: { domain: 'LINUX32' },
      timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: -5 } },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
    },
  };
}

function check(cfg: Cfg): ConfigError | undefined {
  try {
    parseConfig(JSON.stringify(cfg));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return undefined;
}

function expectError(mutate: (c: Cfg) => void, message: string): void {
  const cfg = base();
  mutate(cfg);
  const e = check(cfg);
  expect(e, `no error, expected ${message}`).toBeInstanceOf(ConfigError);
  expect(e!.message).toBe(message);
  // The path field is the part of the message before ": ".
  expect(e!.message.startsWith(`${e!.path}: `)).toBe(true);
}

function expectValid(mutate: (c: Cfg) => void): void {
  const cfg = base();
  mutate(cfg);
  expect(check(cfg)?.message).toBeUndefined();
}

type Case = [string, (c: Cfg) => void, string];

function table(cases: Case[]): void {
  for (const [name, mutate, message] of cases) it(name, () => expectError(mutate, message));
}

describe('a valid config', () => {
  it('passes and comes back unchanged', () => {
    const text = JSON.stringify(base());
    const spec = parseConfig(text);
    expect(spec).toEqual(JSON.parse(text));
  });

  it('accepts every 1.x ociVersion and rejects others', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.1.0-rc.1', '1.2.1', '1.3.0', '1.4.0+build']) {
      expectValid((c) => (c.ociVersion = v));
    }
    expectError((c) => (c.ociVersion = '2.0.0'), 'ociVersion: unsupported version "2.0.0" (need 1.x)');
    expectError((c) => (c.ociVersion = '10.0.0'), 'ociVersion: unsupported version "10.0.0" (need 1.x)');
  });

  it('accepts a relative mount destination and a p device without numbers', () => {
    expectValid((c) => (c.mounts = [{ destination: 'tmp' }]));
    expectValid((c) => (c.linux.devices = [{ path: '/dev/p', type: 'p' }]));
  });

  it('accepts seccomp without defaultAction when there are no rules (runc: no filter)', () => {
    expectValid((c) => (c.linux.seccomp = {}));
    expectValid((c) => (c.linux.seccomp = { defaultAction: '' }));
  });
});

describe('document shape', () => {
  it('rejects a non-object document', () => {
    for (const text of ['[]', 'null', '"x"', '1']) {
      expect(() => parseConfig(text)).toThrow(new ConfigError('', 'config must be a JSON object'));
    }
    expect(() => validateSpec([])).toThrow('config must be a JSON object');
  });

  table([
    ['ociVersion missing', (c) => delete c.ociVersion, 'ociVersion: required'],
    ['ociVersion not a string', (c) => (c.ociVersion = 1.3), 'ociVersion: must be a string'],
    ['process missing', (c) => delete c.process, 'process: required'],
    ['process not an object', (c) => (c.process = ['sh']), 'process: must be an object'],
    ['root missing', (c) => delete c.root, 'root: required'],
    ['root.path missing', (c) => delete c.root.path, 'root.path: required'],
    ['root.path not a string', (c) => (c.root.path = 5), 'root.path: must be a string'],
    ['root.path empty', (c) => (c.root.path = ''), 'root.path: must not be empty'],
    ['root.readonly not boolean', (c) => (c.root.readonly = 'true'), 'root.readonly: must be a boolean'],
    ['hostname not a string', (c) => (c.hostname = 7), 'hostname: must be a string'],
    ['linux not an object', (c) => (c.linux = []), 'linux: must be an object'],
    ['null is not an absent value', (c) => (c.domainname = null), 'domainname: must be a string'],
  ]);
});

describe('process', () => {
  table([
    ['args empty', (c) => (c.process.args = []), 'process.args: must be a non-empty array of strings'],
    ['args missing', (c) => delete c.process.args, 'process.args: must be a non-empty array of strings'],
    ['args not strings', (c) => (c.process.args = ['sh', 1]), 'process.args: must be a non-empty array of strings'],
    ['args a string', (c) => (c.process.args = 'sh'), 'process.args: must be a non-empty array of strings'],
    ['cwd relative', (c) => (c.process.cwd = 'home'), 'process.cwd: must be an absolute path'],
    ['cwd missing', (c) => delete c.process.cwd, 'process.cwd: required'],
    ['env entry not a string', (c) => (c.process.env = ['A=b', 3]), 'process.env[1]: must be a string'],
    [
      'env entry without name',
      (c) => (c.process.env = ['=x']),
      'process.env[0]: invalid environment variable "=x": must be NAME=value with a non-empty NAME',
    ],
    [
      // runc's init refuses it too ("invalid environment variable"); here it fails before anything is made.
      'env entry without "="',
      (c) => (c.process.env = ['PATH=/bin', 'NOEQUALS']),
      'process.env[1]: invalid environment variable "NOEQUALS": must be NAME=value with a non-empty NAME',
    ],
    ['terminal not boolean', (c) => (c.process.terminal = 1), 'process.terminal: must be a boolean'],
    ['consoleSize incomplete', (c) => (c.process.consoleSize = { height: 1 }), 'process.consoleSize.width: required'],
    [
      'consoleSize negative',
      (c) => (c.process.consoleSize.height = -1),
      'process.consoleSize.height: must be a non-negative 64-bit integer',
    ],
    ['user missing', (c) => delete c.process.user, 'process.user: required'],
    ['uid missing', (c) => delete c.process.user.uid, 'process.user.uid: required'],
    ['gid missing', (c) => delete c.process.user.gid, 'process.user.gid: required'],
    [
      'uid negative',
      (c) => (c.process.user.uid = -1),
      'process.user.uid: must be an integer between 0 and 4294967295',
    ],
    [
      'gid as string',
      (c) => (c.process.user.gid = '0'),
      'process.user.gid: must be an integer between 0 and 4294967295',
    ],
    ['umask fractional', (c) => (c.process.user.umask = 1.5), 'process.user.umask: must be an integer between 0 and 4294967295'],
    [
      'additionalGids entry too big',
      (c) => (c.process.user.additionalGids = [1, 4294967296]),
      'process.user.additionalGids[1]: must be an integer between 0 and 4294967295',
    ],
    ['oomScoreAdj too big', (c) => (c.process.oomScoreAdj = 1001), 'process.oomScoreAdj: must be an integer between -1000 and 1000'],
    ['oomScoreAdj too small', (c) => (c.process.oomScoreAdj = -1001), 'process.oomScoreAdj: must be an integer between -1000 and 1000'],
    ['noNewPrivileges not boolean', (c) => (c.process.noNewPrivileges = 'yes'), 'process.noNewPrivileges: must be a boolean'],
  ]);
});

describe('process.rlimits and capabilities', () => {
  table([
    [
      'unknown rlimit',
      (c) => (c.process.rlimits[1].type = 'RLIMIT_FOO'),
      'process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"',
    ],
    [
      'duplicate rlimit',
      (c) => (c.process.rlimits[1].type = 'RLIMIT_NOFILE'),
      'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"',
    ],
    ['rlimit soft missing', (c) => delete c.process.rlimits[0].soft, 'process.rlimits[0].soft: required'],
    [
      'rlimit hard negative',
      (c) => (c.process.rlimits[0].hard = -1),
      'process.rlimits[0].hard: must be a non-negative 64-bit integer',
    ],
    [
      'unknown capability',
      (c) => (c.process.capabilities.bounding = ['CAP_KILL', 'CAP_FOO']),
      'process.capabilities.bounding[1]: unknown capability "CAP_FOO"',
    ],
    [
      'capability names are case-sensitive',
      (c) => (c.process.capabilities.ambient = ['cap_kill']),
      'process.capabilities.ambient[0]: unknown capability "cap_kill"',
    ],
    [
      'capability beyond CAP_CHECKPOINT_RESTORE',
      (c) => (c.process.capabilities.effective = ['CAP_41']),
      'process.capabilities.effective[0]: unknown capability "CAP_41"',
    ],
    [
      'capability set not an array',
      (c) => (c.process.capabilities.permitted = 'CAP_KILL'),
      'process.capabilities.permitted: must be an array',
    ],
  ]);
});

describe('process scheduling and I/O priority', () => {
  table([
    [
      'unknown scheduler policy',
      (c) => (c.process.scheduler.policy = 'SCHED_FOO'),
      'process.scheduler.policy: unknown scheduler policy "SCHED_FOO"',
    ],
    ['scheduler policy missing', (c) => delete c.process.scheduler.policy, 'process.scheduler.policy: required'],
    [
      'nice out of range for SCHED_BATCH',
      (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 20 }),
      'process.scheduler.nice: must be between -20 and 19 when scheduler.policy is SCHED_BATCH',
    ],
    [
      'nice out of range for SCHED_OTHER',
      (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: -21 }),
      'process.scheduler.nice: must be between -20 and 19 when scheduler.policy is SCHED_OTHER',
    ],
    [
      'nice beyond int32',
      (c) => (c.process.scheduler.nice = 2 ** 31),
      'process.scheduler.nice: must be an integer between -2147483648 and 2147483647',
    ],
    [
      'priority with SCHED_DEADLINE',
      (c) => (c.process.scheduler.policy = 'SCHED_DEADLINE'),
      'process.scheduler.priority: only valid with SCHED_FIFO or SCHED_RR',
    ],
    [
      'period without SCHED_DEADLINE',
      (c) => (c.process.scheduler.period = 5),
      'process.scheduler.period: only valid with SCHED_DEADLINE',
    ],
    [
      'priority with SCHED_OTHER',
      (c) => (c.process.scheduler.policy = 'SCHED_OTHER'),
      'process.scheduler.priority: only valid with SCHED_FIFO or SCHED_RR',
    ],
    [
      'runtime without SCHED_DEADLINE',
      (c) => (c.process.scheduler.runtime = 1000),
      'process.scheduler.runtime: only valid with SCHED_DEADLINE',
    ],
    [
      'unknown scheduler flag',
      (c) => (c.process.scheduler.flags = ['SCHED_FLAG_X']),
      'process.scheduler.flags[0]: unknown scheduler flag "SCHED_FLAG_X"',
    ],
    [
      'unknown ioPriority class',
      (c) => (c.process.ioPriority.class = 'IOPRIO_CLASS_NONE'),
      'process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_NONE"',
    ],
    ['ioPriority class missing', (c) => delete c.process.ioPriority.class, 'process.ioPriority.class: required'],
    ['ioPriority priority 8', (c) => (c.process.ioPriority.priority = 8), 'process.ioPriority.priority: must be an integer between 0 and 7'],
    ['ioPriority priority -1', (c) => (c.process.ioPriority.priority = -1), 'process.ioPriority.priority: must be an integer between 0 and 7'],
    [
      'execCPUAffinity junk',
      (c) => (c.process.execCPUAffinity.final = 'all'),
      'process.execCPUAffinity.final: invalid CPU list element "all" (want N or N-M, as in "0-3,7")',
    ],
    [
      'execCPUAffinity empty element',
      (c) => (c.process.execCPUAffinity.initial = '0,,2'),
      'process.execCPUAffinity.initial: invalid CPU list element "" (want N or N-M, as in "0-3,7")',
    ],
    [
      'execCPUAffinity reversed range',
      (c) => (c.process.execCPUAffinity.initial = '3-1'),
      'process.execCPUAffinity.initial: invalid CPU range "3-1": start is greater than end',
    ],
    [
      'execCPUAffinity CPU past NR_CPUS',
      (c) => (c.process.execCPUAffinity.final = '0,8192'),
      'process.execCPUAffinity.final: invalid CPU 8192: out of range (0-8191)',
    ],
    [
      'execCPUAffinity open range',
      (c) => (c.process.execCPUAffinity.final = '2-'),
      'process.execCPUAffinity.final: invalid CPU list element "2-" (want N or N-M, as in "0-3,7")',
    ],
    ['execCPUAffinity not a string', (c) => (c.process.execCPUAffinity.initial = 1), 'process.execCPUAffinity.initial: must be a string'],
  ]);

  it('leaves nice to the kernel for the real-time and idle policies, as runc does', () => {
    expectValid((c) => (c.process.scheduler = { policy: 'SCHED_FIFO', priority: 1, nice: 40 }));
    expectValid((c) => (c.process.scheduler = { policy: 'SCHED_IDLE', nice: -40 }));
  });

  it('takes an empty execCPUAffinity list as unset, and spaces around elements', () => {
    expectValid((c) => (c.process.execCPUAffinity = { initial: '', final: ' 0-1 ' }));
    expectValid((c) => (c.process.execCPUAffinity = { initial: '1 , 0-0', final: '8191' }));
  });

  it('accepts deadline parameters with SCHED_DEADLINE', () => {
    expectValid((c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3 }));
  });
});

describe('mounts, hooks, annotations', () => {
  table([
    ['destination not a string', (c) => (c.mounts[2].destination = 5), 'mounts[2].destination: must be a string'],
    ['destination empty', (c) => (c.mounts[2].destination = ''), 'mounts[2].destination: must not be empty'],
    ['destination missing', (c) => delete c.mounts[1].destination, 'mounts[1].destination: required'],
    ['type not a string', (c) => (c.mounts[0].type = true), 'mounts[0].type: must be a string'],
    ['source not a string', (c) => (c.mounts[0].source = ['proc']), 'mounts[0].source: must be a string'],
    ['options not strings', (c) => (c.mounts[1].options = ['ro', 1]), 'mounts[1].options[1]: must be a string'],
    ['options not an array', (c) => (c.mounts[1].options = 'ro'), 'mounts[1].options: must be an array'],
    ['mount idmap size 0', (c) => (c.mounts[2].uidMappings[0].size = 0), 'mounts[2].uidMappings[0].size: must be an integer between 1 and 4294967295'],
    ['mounts not an array', (c) => (c.mounts = {}), 'mounts: must be an array'],
    ['hook path missing', (c) => delete c.hooks.createRuntime[0].path, 'hooks.createRuntime[0].path: required'],
    ['hook path relative', (c) => (c.hooks.prestart[0].path = 'bin/true'), 'hooks.prestart[0].path: must be an absolute path'],
    ['hook args not strings', (c) => (c.hooks.createRuntime[0].args = [1]), 'hooks.createRuntime[0].args[0]: must be a string'],
    ['hook env not an array', (c) => (c.hooks.createRuntime[0].env = 'A=b'), 'hooks.createRuntime[0].env: must be an array'],
    ['hook timeout zero', (c) => (c.hooks.createRuntime[0].timeout = 0), 'hooks.createRuntime[0].timeout: must be a positive integer'],
    ['hook timeout fractional', (c) => (c.hooks.createRuntime[0].timeout = 1.5), 'hooks.createRuntime[0].timeout: must be a positive integer'],
    ['hook list not an array', (c) => (c.hooks.poststart = { path: '/x' }), 'hooks.poststart: must be an array'],
    ['annotation value not a string', (c) => (c.annotations = { a: 1 }), 'annotations.a: must be a string'],
    ['annotation key empty', (c) => (c.annotations = { '': 'x' }), 'annotations[""]: annotation keys must not be empty'],
    ['annotations not an object', (c) => (c.annotations = ['a=b']), 'annotations: must be an object'],
  ]);
});

describe('linux namespaces and id mappings', () => {
  table([
    ['unknown namespace type', (c) => (c.linux.namespaces[1].type = 'foo'), 'linux.namespaces[1].type: unknown namespace type "foo"'],
    ['namespace type missing', (c) => (c.linux.namespaces[2] = { path: '/proc/1/ns/ipc' }), 'linux.namespaces[2].type: required'],
    [
      'duplicate namespace',
      (c) => c.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
      'linux.namespaces[8].type: malformed spec file: duplicated ns "pid" (also linux.namespaces[0])',
    ],
    ['namespace path relative', (c) => (c.linux.namespaces[0].path = 'proc/1/ns/pid'), 'linux.namespaces[0].path: must be an absolute path'],
    ['mapping without size', (c) => delete c.linux.uidMappings[0].size, 'linux.uidMappings[0].size: required'],
    ['mapping size zero', (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 0 }]), 'linux.gidMappings[0].size: must be an integer between 1 and 4294967295'],
    ['mapping hostID negative', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: -1, size: 1 }]), 'linux.uidMappings[0].hostID: must be an integer between 0 and 4294967295'],
    ['mapping containerID missing', (c) => (c.linux.uidMappings = [{ hostID: 0, size: 1 }]), 'linux.uidMappings[0].containerID: required'],
    ['mappings not an array', (c) => (c.linux.uidMappings = { containerID: 0 }), 'linux.uidMappings: must be an array'],
  ]);
});

describe('cross-field rules', () => {
  const drop = (c: Cfg, type: string): void => {
    c.linux.namespaces = c.linux.namespaces.filter((ns: Cfg) => ns.type !== type);
  };

  table([
    ['new userns without uidMappings', (c) => delete c.linux.uidMappings, 'linux.uidMappings: required when a new user namespace is created'],
    ['new userns with empty gidMappings', (c) => (c.linux.gidMappings = []), 'linux.gidMappings: required when a new user namespace is created'],
    [
      'mappings without userns',
      (c) => drop(c, 'user'),
      'linux.uidMappings: set, but linux.namespaces has no "user" entry',
    ],
    [
      'gid mappings alone without userns',
      (c) => {
        drop(c, 'user');
        delete c.linux.uidMappings;
      },
      'linux.gidMappings: set, but linux.namespaces has no "user" entry',
    ],
    ['hostname without uts', (c) => drop(c, 'uts'), 'hostname: requires a uts namespace (linux.namespaces has no "uts" entry)'],
    [
      'domainname without uts',
      (c) => {
        drop(c, 'uts');
        delete c.hostname;
      },
      'domainname: requires a uts namespace (linux.namespaces has no "uts" entry)',
    ],
    [
      'hostname with no linux section at all',
      (c) => delete c.linux,
      'hostname: requires a uts namespace (linux.namespaces has no "uts" entry)',
    ],
    [
      'timeOffsets without time namespace',
      (c) => drop(c, 'time'),
      'linux.timeOffsets: requires a time namespace (linux.namespaces has no "time" entry)',
    ],
    [
      'maskedPaths without mount namespace',
      (c) => drop(c, 'mount'),
      'linux.maskedPaths: requires a mount namespace (linux.namespaces has no "mount" entry)',
    ],
    [
      'netDevices without network namespace',
      (c) => drop(c, 'network'),
      'linux.netDevices: requires a network namespace (linux.namespaces has no "network" entry)',
    ],
  ]);

  it('a joined user namespace needs no mappings', () => {
    expectValid((c) => {
      c.linux.namespaces[5].path = '/proc/1/ns/user';
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
    });
  });

  it('a joined uts namespace allows a hostname (as in runc)', () => {
    expectValid((c) => (c.linux.namespaces[3].path = '/proc/1/ns/uts'));
  });

  it('an empty hostname needs no uts namespace', () => {
    expectValid((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((ns: Cfg) => ns.type !== 'uts');
      c.hostname = '';
      delete c.domainname;
    });
  });
});

describe('linux paths, devices, misc', () => {
  table([
    ['maskedPaths relative', (c) => (c.linux.maskedPaths = ['proc/kcore']), 'linux.maskedPaths[0]: must be an absolute path'],
    ['readonlyPaths not strings', (c) => (c.linux.readonlyPaths = ['/a', 2]), 'linux.readonlyPaths[1]: must be a string'],
    ['device path relative', (c) => (c.linux.devices[0].path = 'dev/fuse'), 'linux.devices[0].path: must be absolute'],
    ['device type unknown', (c) => (c.linux.devices[0].type = 'x'), 'linux.devices[0].type: unknown device type "x"'],
    ['device type missing', (c) => delete c.linux.devices[1].type, 'linux.devices[1].type: required'],
    ['device major missing', (c) => delete c.linux.devices[0].major, 'linux.devices[0].major: required for device type "c"'],
    ['device minor missing', (c) => delete c.linux.devices[1].minor, 'linux.devices[1].minor: required for device type "b"'],
    ['device fileMode negative', (c) => (c.linux.devices[0].fileMode = -1), 'linux.devices[0].fileMode: must be an integer between 0 and 4294967295'],
    ['sysctl value not a string', (c) => (c.linux.sysctl['net.ipv4.ip_forward'] = 1), 'linux.sysctl["net.ipv4.ip_forward"]: must be a string'],
    ['rootfsPropagation unknown', (c) => (c.linux.rootfsPropagation = 'bogus'), 'linux.rootfsPropagation: unknown rootfs propagation "bogus"'],
    ['personality domain unknown', (c) => (c.linux.personality.domain = 'LINUX64'), 'linux.personality.domain: unknown personality domain "LINUX64"'],
    ['personality domain missing', (c) => (c.linux.personality = { flags: [] }), 'linux.personality.domain: required'],
    ['personality flags not strings', (c) => (c.linux.personality.flags = [1]), 'linux.personality.flags[0]: must be a string'],
    [
      'timeOffsets unknown clock',
      (c) => (c.linux.timeOffsets.realtime = { secs: 1 }),
      'linux.timeOffsets.realtime: unknown clock "realtime" (valid: monotonic, boottime)',
    ],
    [
      'timeOffsets nanosecs a full second',
      (c) => (c.linux.timeOffsets.boottime.nanosecs = 1_000_000_000),
      'linux.timeOffsets.boottime.nanosecs: must be an integer between 0 and 999999999',
    ],
    ['memoryPolicy mode missing', (c) => delete c.linux.memoryPolicy.mode, 'linux.memoryPolicy.mode: required'],
    // runc 1.4 refuses an empty object too ("invalid memory policy").
    ['memoryPolicy empty', (c) => (c.linux.memoryPolicy = {}), 'linux.memoryPolicy.mode: required'],
    [
      'memoryPolicy mode unknown',
      (c) => (c.linux.memoryPolicy.mode = 'INTERLEAVE'),
      'linux.memoryPolicy.mode: unknown memory policy mode "INTERLEAVE"',
    ],
    [
      'memoryPolicy node far too large',
      (c) => (c.linux.memoryPolicy.nodes = '0-9876543210'),
      'linux.memoryPolicy.nodes: invalid memory policy node "0-9876543210": out of range (0-8191)',
    ],
    [
      'memoryPolicy nodes junk',
      (c) => (c.linux.memoryPolicy.nodes = 'node0'),
      'linux.memoryPolicy.nodes: invalid memory policy node list element "node0" (want N or N-M, as in "0-3,7")',
    ],
    [
      'memoryPolicy nodes with MPOL_DEFAULT',
      (c) => (c.linux.memoryPolicy = { mode: 'MPOL_DEFAULT', nodes: '0-7' }),
      'linux.memoryPolicy.nodes: MPOL_DEFAULT mode requires 0 nodes but got 8',
    ],
    [
      'memoryPolicy nodes with MPOL_LOCAL',
      (c) => (c.linux.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '1,3' }),
      'linux.memoryPolicy.nodes: MPOL_LOCAL mode requires 0 nodes but got 2',
    ],
    [
      'memoryPolicy MPOL_BIND without nodes',
      (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND' }),
      'linux.memoryPolicy.nodes: MPOL_BIND mode requires at least 1 node',
    ],
    [
      'memoryPolicy MPOL_INTERLEAVE with an empty list',
      (c) => (c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: ' ' }),
      'linux.memoryPolicy.nodes: MPOL_INTERLEAVE mode requires at least 1 node',
    ],
    [
      'memoryPolicy flag unknown',
      (c) => (c.linux.memoryPolicy.flags = ['MPOL_F_NOPE']),
      'linux.memoryPolicy.flags[0]: unknown memory policy flag "MPOL_F_NOPE"',
    ],
    ['intelRdt closID escapes', (c) => (c.linux.intelRdt.closID = '../x'), 'linux.intelRdt.closID: invalid closID "../x"'],
    ['intelRdt schemata as a string', (c) => (c.linux.intelRdt.schemata = 'L3:0=7f0'), 'linux.intelRdt.schemata: must be an array'],
    [
      'netDevices name too long',
      (c) => (c.linux.netDevices.eth1.name = 'a-very-long-ifname'),
      'linux.netDevices.eth1.name: invalid network interface name "a-very-long-ifname"',
    ],
    ['netDevices key with slash', (c) => (c.linux.netDevices['a/b'] = {}), 'linux.netDevices["a/b"]: invalid network interface name "a/b"'],
  ]);
});

describe('linux.seccomp', () => {
  table([
    ['unknown defaultAction', (c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_FOO'), 'linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO"'],
    ['defaultAction missing with rules', (c) => delete c.linux.seccomp.defaultAction, 'linux.seccomp.defaultAction: required'],
    ['names empty', (c) => (c.linux.seccomp.syscalls[0].names = []), 'linux.seccomp.syscalls[0].names: must not be empty'],
    ['names missing', (c) => delete c.linux.seccomp.syscalls[1].names, 'linux.seccomp.syscalls[1].names: required'],
    ['action unknown', (c) => (c.linux.seccomp.syscalls[0].action = 'ALLOW'), 'linux.seccomp.syscalls[0].action: unknown seccomp action "ALLOW"'],
    [
      'arg op unknown',
      (c) => (c.linux.seccomp.syscalls[1].args[0].op = 'SCMP_CMP_FOO'),
      'linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator "SCMP_CMP_FOO"',
    ],
    ['arg index 6', (c) => (c.linux.seccomp.syscalls[1].args[0].index = 6), 'linux.seccomp.syscalls[1].args[0].index: must be an integer between 0 and 5'],
    ['arg value missing', (c) => delete c.linux.seccomp.syscalls[1].args[0].value, 'linux.seccomp.syscalls[1].args[0].value: required'],
    [
      'errnoRet with ALLOW',
      (c) => (c.linux.seccomp.syscalls[0].errnoRet = 1),
      'linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE',
    ],
    [
      'defaultErrnoRet with KILL',
      (c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_KILL'),
      'linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE',
    ],
    [
      'architecture unknown',
      (c) => (c.linux.seccomp.architectures = ['SCMP_ARCH_VAX']),
      'linux.seccomp.architectures[0]: unknown seccomp architecture "SCMP_ARCH_VAX"',
    ],
    ['flag unknown', (c) => (c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_X']), 'linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_X"'],
    [
      'notify without listenerPath',
      (c) => {
        delete c.linux.seccomp.listenerPath;
        delete c.linux.seccomp.listenerMetadata;
      },
      'linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used',
    ],
    [
      'metadata without listenerPath',
      (c) => {
        delete c.linux.seccomp.listenerPath;
        c.linux.seccomp.syscalls.splice(2, 1);
      },
      'linux.seccomp.listenerMetadata: requires listenerPath',
    ],
    [
      'notify as default action',
      (c) => {
        c.linux.seccomp.defaultAction = 'SCMP_ACT_NOTIFY';
        delete c.linux.seccomp.defaultErrnoRet;
      },
      'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action',
    ],
    [
      'notify on write',
      (c) => (c.linux.seccomp.syscalls[2].names = ['mkdir', 'write']),
      'linux.seccomp.syscalls[2].names[1]: SCMP_ACT_NOTIFY cannot be used for "write"',
    ],
  ]);

  it('accepts every action, operator, flag and arg index 0..5', () => {
    expectValid((c) => {
      c.linux.seccomp.syscalls = SECCOMP_ACTIONS.filter((a) => a !== 'SCMP_ACT_NOTIFY').map((action, i) => ({
        names: [`call${i}`],
        action,
        args: SECCOMP_OPERATORS.map((op, j) => ({ index: j % 6, value: j, valueTwo: 1, op })),
      }));
      c.linux.seccomp.flags = [...SECCOMP_FLAGS];
      delete c.linux.seccomp.listenerPath;
      delete c.linux.seccomp.listenerMetadata;
    });
  });

  it('accepts errnoRet with SCMP_ACT_TRACE (the tracer sees it as the message), and defaultErrnoRet with a TRACE default', () => {
    expectValid((c) => (c.linux.seccomp.syscalls[3] = { names: ['chmod'], action: 'SCMP_ACT_TRACE', errnoRet: 5 }));
    expectValid((c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_TRACE'));
  });

  it('accepts listenerPath without a NOTIFY rule, as runc and crun do', () => {
    expectValid((c) => c.linux.seccomp.syscalls.splice(2, 1));
  });

  it('accepts a syscall name no table knows (libseccomp skips those per arch)', () => {
    expectValid((c) => (c.linux.seccomp.syscalls[0].names = ['no_such_syscall']));
  });
});

describe('linux.resources', () => {
  table([
    ['device rule allow missing', (c) => delete c.linux.resources.devices[1].allow, 'linux.resources.devices[1].allow: required'],
    ['device rule allow not boolean', (c) => (c.linux.resources.devices[0].allow = 'false'), 'linux.resources.devices[0].allow: must be a boolean'],
    [
      'device rule access bad',
      (c) => (c.linux.resources.devices[1].access = 'rwx'),
      'linux.resources.devices[1].access: must be a combination of "r", "w" and "m"',
    ],
    ['device rule type bad', (c) => (c.linux.resources.devices[1].type = 'u'), 'linux.resources.devices[1].type: unknown device type "u"'],
    ['memory limit a string', (c) => (c.linux.resources.memory.limit = '1G'), 'linux.resources.memory.limit: must be a 64-bit integer'],
    ['memory limit fractional', (c) => (c.linux.resources.memory.limit = 1.5), 'linux.resources.memory.limit: must be a 64-bit integer'],
    ['swappiness 101', (c) => (c.linux.resources.memory.swappiness = 101), 'linux.resources.memory.swappiness: must be an integer between 0 and 100'],
    ['cpu shares negative', (c) => (c.linux.resources.cpu.shares = -1), 'linux.resources.cpu.shares: must be a non-negative 64-bit integer'],
    ['cpu cpus not a string', (c) => (c.linux.resources.cpu.cpus = 3), 'linux.resources.cpu.cpus: must be a string'],
    ['pids limit missing', (c) => (c.linux.resources.pids = {}), 'linux.resources.pids.limit: required'],
    [
      'weightDevice without weights',
      (c) => (c.linux.resources.blockIO.weightDevice = [{ major: 8, minor: 0 }]),
      'linux.resources.blockIO.weightDevice[0]: must set at least one of weight, leafWeight',
    ],
    ['blkio weight too big', (c) => (c.linux.resources.blockIO.weight = 65536), 'linux.resources.blockIO.weight: must be an integer between 0 and 65535'],
    ['throttle rate missing', (c) => delete c.linux.resources.blockIO.throttleReadBpsDevice[0].rate, 'linux.resources.blockIO.throttleReadBpsDevice[0].rate: required'],
    ['hugepage pageSize missing', (c) => delete c.linux.resources.hugepageLimits[0].pageSize, 'linux.resources.hugepageLimits[0].pageSize: required'],
    ['network priority name missing', (c) => delete c.linux.resources.network.priorities[0].name, 'linux.resources.network.priorities[0].name: required'],
    ['rdma entry empty', (c) => (c.linux.resources.rdma.mlx5_1 = {}), 'linux.resources.rdma.mlx5_1: must set at least one of hcaHandles, hcaObjects'],
    ['unified value not a string', (c) => (c.linux.resources.unified['memory.high'] = 5), 'linux.resources.unified["memory.high"]: must be a string'],
  ]);
});

describe('unknown fields', () => {
  it('are ignored and kept, at every level', () => {
    const cfg = base();
    cfg['x-vendor'] = { anything: [1, 2, 3] };
    cfg.windows = 'not validated on linux';
    cfg.process.futureField = 42;
    cfg.mounts[0].extra = true;
    cfg.linux.namespaces[0].comment = 'pid';
    cfg.linux.resources.memory.newKnob = 'x';
    cfg.linux.seccomp.syscalls[0].comment = 'io';
    const spec = parseConfig(JSON.stringify(cfg)) as Cfg;
    expect(spec['x-vendor']).toEqual({ anything: [1, 2, 3] });
    expect(spec.windows).toBe('not validated on linux');
    expect(spec.process.futureField).toBe(42);
    expect(spec.mounts[0].extra).toBe(true);
    expect(spec.linux.namespaces[0].comment).toBe('pid');
    expect(spec.linux.resources.memory.newKnob).toBe('x');
    expect(spec.linux.seccomp.syscalls[0].comment).toBe('io');
  });

  it('are not defaulted: absent optional fields stay absent', () => {
    const spec = parseConfig(
      JSON.stringify({ ociVersion: '1.3.0', process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, root: { path: 'r' } }),
    );
    expect(Object.keys(spec).sort()).toEqual(['ociVersion', 'process', 'root']);
    expect(Object.keys(spec.process!).sort()).toEqual(['args', 'cwd', 'user']);
    expect(spec.root).toEqual({ path: 'r' });
  });

  it('do not shadow object prototype names', () => {
    expectError((c) => (c.process.capabilities.bounding = ['toString']), 'process.capabilities.bounding[0]: unknown capability "toString"');
    expectError((c) => (c.process.rlimits[0].type = '__proto__'), 'process.rlimits[0].type: unknown rlimit "__proto__"');
  });
});

describe('parseProcess (exec --process)', () => {
  it('validates with paths relative to the process object', () => {
    expect(parseProcess('{"user": {"uid": 0, "gid": 0}, "args": ["ls"], "cwd": "/"}').args).toEqual(['ls']);
    expect(() => parseProcess('{"user": {"uid": 0, "gid": 0}, "args": [], "cwd": "/"}')).toThrow(
      new ConfigError('args', 'must be a non-empty array of strings'),
    );
    expect(() => parseProcess('[]')).toThrow('process must be a JSON object');
    expect(() => parseProcess('{', 'p.json')).toThrow(/^p\.json: invalid JSON at line 1, column 2: /);
  });
});

describe('linux.memoryPolicy nodes per mode', () => {
  it('takes no nodes for the default and local policies, and none for MPOL_PREFERRED (local allocation)', () => {
    expectValid((c) => (c.linux.memoryPolicy = { mode: 'MPOL_DEFAULT' }));
    expectValid((c) => (c.linux.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '' }));
    expectValid((c) => (c.linux.memoryPolicy = { mode: 'MPOL_PREFERRED', flags: ['MPOL_F_RELATIVE_NODES'] }));
  });

  it('accepts node lists for the other modes', () => {
    expectValid((c) => (c.linux.memoryPolicy = { mode: 'MPOL_PREFERRED_MANY', nodes: '0,2-3' }));
    expectValid((c) => (c.linux.memoryPolicy = { mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '8191' }));
  });
});
