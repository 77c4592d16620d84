// Schema of the "linux" object: namespaces, id mappings, devices, cgroup
// resources, seccomp, intelRdt, personality, time offsets, memory policy.

import * as path from 'node:path';

import {
  absPath,
  all,
  arrayOf,
  at,
  bool,
  type Check,
  fail,
  I64,
  index,
  int,
  mapOf,
  nonEmptyStr,
  obj,
  oneOf,
  required,
  type Rule,
  str,
  U16,
  U32,
  U64,
  keyPath,
} from './check';
import {
  CGROUP_DEVICE_TYPES,
  DEVICE_TYPES,
  MEMORY_POLICY_FLAGS,
  MEMORY_POLICY_MODES,
  NAMESPACE_TYPES,
  PERSONALITY_DOMAINS,
  ROOTFS_PROPAGATIONS,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHES,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  TIME_OFFSET_CLOCKS,
} from './enums';
import { idListCheck, parseIdList } from './idlist';

// The kernel rejects a zero-length extent, so size 0 can never work.
export function buildIdMappingCheck(): Check {
  return obj({
    containerID: required(U32),
    hostID: required(U32),
    size: required(int(1, 0xffffffff)),
  });
}

export function buildLinuxCheck(): Check {
  const idMappings = arrayOf(buildIdMappingCheck());
  return obj({
    uidMappings: idMappings,
    gidMappings: idMappings,
    sysctl: mapOf(str),
    resources: buildResourcesCheck(),
    cgroupsPath: str,
    namespaces: all(
      arrayOf(
        obj({
          type: required(oneOf(NAMESPACE_TYPES, 'namespace type')),
          path: absPath(),
        }),
      ),
      uniqueNamespaces,
    ),
    devices: arrayOf(
      obj(
        {
          path: required(absPath('must be absolute')),
          type: required(oneOf(DEVICE_TYPES, 'device type')),
          major: I64,
          minor: I64,
          fileMode: U32,
          uid: U32,
          gid: U32,
        },
        deviceNumbersRule,
      ),
    ),
    netDevices: all(
      mapOf(obj({ name: optionalInterfaceName }), (k, p) => interfaceName(k, p)),
      uniqueNetDeviceNames,
    ),
    seccomp: buildSeccompCheck(),
    rootfsPropagation: oneOf(ROOTFS_PROPAGATIONS, 'rootfs propagation'),
    maskedPaths: arrayOf(absPath()),
    readonlyPaths: arrayOf(absPath()),
    mountLabel: str,
    intelRdt: obj({
      closID,
      schemata: arrayOf(str),
      l3CacheSchema: str,
      memBwSchema: str,
      enableMonitoring: bool,
      enableCMT: bool,
      enableMBM: bool,
    }),
    personality: obj({
      domain: required(oneOf(PERSONALITY_DOMAINS, 'personality domain')),
      flags: arrayOf(str),
    }),
    timeOffsets: mapOf(
      // The kernel wants nanoseconds below one second (EINVAL otherwise).
      obj({ secs: I64, nanosecs: int(0, 999_999_999) }),
      clockName(),
    ),
    memoryPolicy: obj(
      {
        mode: required(oneOf(MEMORY_POLICY_MODES, 'memory policy mode')),
        nodes: memoryNodes,
        flags: arrayOf(oneOf(MEMORY_POLICY_FLAGS, 'memory policy flag')),
      },
      memoryPolicyRule,
    ),
  });
}

// runc's wording, so that the message searches the same; the path says which entry repeats.
const uniqueNamespaces: Check = (v, p) => {
  const first = new Map<unknown, number>();
  (v as Record<string, unknown>[]).forEach((ns, i) => {
    const seen = first.get(ns.type);
    if (seen !== undefined) {
      fail(at(index(p, i), 'type'), `malformed spec file: duplicated ns ${JSON.stringify(ns.type)} (also ${index(p, seen)})`);
    }
    first.set(ns.type, i);
  });
};

// mknod(2) takes a 32-bit dev_t that the kernel splits into a 12-bit major and a 20-bit minor:
// anything larger would silently wrap to another device (runc 1.1.5 makes major 5000 into 904).
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

const memoryNodes = idListCheck('memory policy node');

// set_mempolicy(2): the default and local policies take no nodes, the others need at least one
// (MPOL_PREFERRED with none means local allocation).
const memoryPolicyRule: Rule = (o, p) => {
  const count = parseIdList((o.nodes as string | undefined) ?? '').length;
  if ((o.mode === 'MPOL_DEFAULT' || o.mode === 'MPOL_LOCAL') && count > 0) {
    fail(at(p, 'nodes'), `${o.mode as string} mode requires 0 nodes but got ${count}`);
  }
  if (count === 0 && o.mode !== 'MPOL_DEFAULT' && o.mode !== 'MPOL_LOCAL' && o.mode !== 'MPOL_PREFERRED') {
    fail(at(p, 'nodes'), `${o.mode as string} mode requires at least 1 node`);
  }
};

const deviceNumbersRule: Rule = (o, p) => {
  // "/" or "/dev/.." would name the root itself, which no device can replace.
  if (path.posix.normalize(o.path as string) === '/') fail(at(p, 'path'), 'must name a file below "/"');
  if (o.type === 'p') return;
  for (const [k, max] of [['major', MAX_MAJOR], ['minor', MAX_MINOR]] as const) {
    const n = o[k];
    if (n === undefined) fail(at(p, k), `required for device type ${JSON.stringify(o.type)}`);
    if ((n as number) < 0 || (n as number) > max) fail(at(p, k), `must be between 0 and ${max} (Linux device numbers)`);
  }
};

// IFNAMSIZ is 16 including the NUL; "/" and whitespace cannot appear in a
// name and "." / ".." are refused by the kernel.
const interfaceName: Check = (v, p) => {
  nonEmptyStr(v, p);
  const s = v as string;
  if (Buffer.byteLength(s) > 15 || s === '.' || s === '..' || /[/\s:]/.test(s)) {
    fail(p, `invalid network interface name ${JSON.stringify(s)}`);
  }
};

// Go reads "name": "" as no name, and runc then keeps the host's name; so do we.
const optionalInterfaceName: Check = (v, p) => {
  str(v, p);
  if (v !== '') interfaceName(v, p);
};

// Two devices may not end up with one name inside the container: the second move would fail
// half-way with EEXIST after the first device had already left the host.
const uniqueNetDeviceNames: Check = (v, p) => {
  const owner = new Map<string, string>();
  for (const [hostName, d] of Object.entries(v as Record<string, { name?: string }>)) {
    const final = d.name || hostName;
    const other = owner.get(final);
    if (other !== undefined) {
      fail(keyPath(p, hostName), `would be named ${JSON.stringify(final)} in the container, as would ${keyPath(p, other)}`);
    }
    owner.set(final, hostName);
  }
};

// closID names a directory under the resctrl mount.
const closID: Check = (v, p) => {
  str(v, p);
  const s = v as string;
  if (s === '.' || s === '..' || s.includes('/')) fail(p, `invalid closID ${JSON.stringify(s)}`);
};

function clockName(): (k: string, p: string) => void {
  const known = new Set(TIME_OFFSET_CLOCKS);
  return (k, p) => {
    if (!known.has(k)) fail(p, `unknown clock ${JSON.stringify(k)} (valid: ${TIME_OFFSET_CLOCKS.join(', ')})`);
  };
}

const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

function buildSeccompCheck(): Check {
  const action = oneOf(SECCOMP_ACTIONS, 'seccomp action');
  // Go decodes a missing defaultAction as "", which runc takes as "no filter"
  // when there are no syscall rules either; the cross-rule below enforces that.
  const defaultAction: Check = (v, p) => {
    if (v !== '') action(v, p);
  };
  const syscall = obj(
    {
      names: required(arrayOf(nonEmptyStr, { nonEmpty: true })),
      action: required(action),
      errnoRet: U32,
      args: arrayOf(
        obj({
          // The seccomp ABI passes six syscall arguments.
          index: required(int(0, 5)),
          value: required(U64),
          valueTwo: U64,
          op: required(oneOf(SECCOMP_OPERATORS, 'seccomp operator')),
        }),
      ),
    },
    (o, p) => {
      if (o.errnoRet !== undefined && !ERRNO_ACTIONS.has(o.action as string)) {
        fail(at(p, 'errnoRet'), 'only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
      }
    },
  );
  return obj(
    {
      defaultAction,
      defaultErrnoRet: U32,
      architectures: arrayOf(oneOf(SECCOMP_ARCHES, 'seccomp architecture')),
      flags: arrayOf(oneOf(SECCOMP_FLAGS, 'seccomp flag')),
      listenerPath: nonEmptyStr,
      listenerMetadata: str,
      syscalls: arrayOf(syscall),
    },
    seccompRules,
  );
}

const seccompRules: Rule = (o, p) => {
  const syscalls = (o.syscalls ?? []) as Record<string, unknown>[];
  const def = o.defaultAction;
  if ((def === undefined || def === '') && syscalls.length > 0) fail(at(p, 'defaultAction'), 'required');
  if (o.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(def as string)) {
    fail(at(p, 'defaultErrnoRet'), 'only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
  }
  // A notify default would hand every syscall, including the agent's own
  // socket traffic, to a listener that cannot exist yet.
  if (def === 'SCMP_ACT_NOTIFY') fail(at(p, 'defaultAction'), 'SCMP_ACT_NOTIFY cannot be the default action');
  let notify = false;
  syscalls.forEach((s, i) => {
    if (s.action !== 'SCMP_ACT_NOTIFY') return;
    notify = true;
    // The runtime itself writes to the listener socket after loading the filter.
    const names = s.names as string[];
    const w = names.indexOf('write');
    if (w >= 0) fail(index(at(index(at(p, 'syscalls'), i), 'names'), w), 'SCMP_ACT_NOTIFY cannot be used for "write"');
  });
  if (notify && o.listenerPath === undefined) fail(at(p, 'listenerPath'), 'required when SCMP_ACT_NOTIFY is used');
  if (o.listenerMetadata !== undefined && o.listenerMetadata !== '' && o.listenerPath === undefined) {
    fail(at(p, 'listenerMetadata'), 'requires listenerPath');
  }
};

function buildResourcesCheck(): Check {
  const blockDevice = { major: required(I64), minor: required(I64) };
  const throttle = arrayOf(obj({ ...blockDevice, rate: required(U64) }));
  const atLeastOne =
    (...keys: string[]): Rule =>
    (o, p) => {
      if (keys.every((k) => o[k] === undefined)) fail(p, `must set at least one of ${keys.join(', ')}`);
    };
  return obj({
    devices: arrayOf(
      obj({
        allow: required(bool),
        type: oneOf(CGROUP_DEVICE_TYPES, 'device type'),
        major: I64,
        minor: I64,
        access: deviceAccess,
      }),
    ),
    memory: obj({
      limit: I64,
      reservation: I64,
      swap: I64,
      kernel: I64,
      kernelTCP: I64,
      swappiness: int(0, 100),
      disableOOMKiller: bool,
      useHierarchy: bool,
      checkBeforeUpdate: bool,
    }),
    cpu: obj({
      shares: U64,
      quota: I64,
      burst: U64,
      period: U64,
      realtimeRuntime: I64,
      realtimePeriod: U64,
      cpus: str,
      mems: str,
      idle: I64,
    }),
    pids: obj({ limit: required(I64) }),
    blockIO: obj({
      weight: U16,
      leafWeight: U16,
      weightDevice: arrayOf(obj({ ...blockDevice, weight: U16, leafWeight: U16 }, atLeastOne('weight', 'leafWeight'))),
      throttleReadBpsDevice: throttle,
      throttleWriteBpsDevice: throttle,
      throttleReadIOPSDevice: throttle,
      throttleWriteIOPSDevice: throttle,
    }),
    hugepageLimits: arrayOf(obj({ pageSize: required(nonEmptyStr), limit: required(U64) })),
    network: obj({
      classID: U32,
      priorities: arrayOf(obj({ name: required(nonEmptyStr), priority: required(U32) })),
    }),
    rdma: mapOf(obj({ hcaHandles: U32, hcaObjects: U32 }, atLeastOne('hcaHandles', 'hcaObjects'))),
    unified: mapOf(str),
  });
}

const deviceAccess: Check = (v, p) => {
  str(v, p);
  if (!/^[rwm]*$/.test(v as string)) fail(p, 'must be a combination of "r", "w" and "m"');
};

// `update --resources`: the same checks as linux.resources in a config.
export function validateResources(value: unknown, path: string): void {
  buildResourcesCheck()(value, path);
}
