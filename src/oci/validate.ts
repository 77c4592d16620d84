// Whole-config validation: the top-level schema plus the cross-field rules
// that need no host access (namespaces versus hostname, mappings, ...).

import {
  absPath,
  arrayOf,
  bool,
  type Check,
  fail,
  isObject,
  mapOf,
  nonEmptyStr,
  obj,
  required,
  str,
  int,
} from './check';
import { HOOK_NAMES } from './enums';
import type { Process, Spec } from './spec';
import { buildIdMappingCheck, buildLinuxCheck } from './validate-linux';
import { buildProcessCheck } from './validate-process';

// Built on first use so that importing the module does no work.
let specCheck: Check | undefined;
let processCheck: Check | undefined;

/** Checks a parsed config.json; returns it typed, unchanged. */
export function validateSpec(value: unknown): Spec {
  if (!isObject(value)) fail('', 'config must be a JSON object');
  (specCheck ??= buildSpecCheck())(value, '');
  const spec = value as unknown as Spec;
  checkCrossFields(spec);
  return spec;
}

/** Checks a standalone process object (exec's process.json); paths are relative to it. */
export function validateProcess(value: unknown): Process {
  if (!isObject(value)) fail('', 'process must be a JSON object');
  (processCheck ??= buildProcessCheck())(value, '');
  return value as unknown as Process;
}

// runc accepts any 1.x document (forward and backward compatible within a
// major version per the spec) and nothing else.
const ociVersion: Check = (v, p) => {
  str(v, p);
  if (!/^1\.\d+(?:$|[.+-])/.test(v as string)) fail(p, `unsupported version ${JSON.stringify(v)} (need 1.x)`);
};

const annotationKey = (k: string, p: string): void => {
  if (k === '') fail(p, 'annotation keys must not be empty');
};

function buildSpecCheck(): Check {
  const hook = obj({
    path: required(absPath()),
    args: arrayOf(str),
    env: arrayOf(str),
    timeout: int(1, 0x7fffffff, 'must be a positive integer'),
  });
  const hookList = arrayOf(hook);
  const idMappings = arrayOf(buildIdMappingCheck());
  return obj({
    ociVersion: required(ociVersion),
    // Optional in the spec, but there is nothing to create without it.
    process: required((processCheck ??= buildProcessCheck())),
    root: required(obj({ path: required(nonEmptyStr), readonly: bool })),
    hostname: str,
    domainname: str,
    mounts: arrayOf(
      obj({
        // Relative destinations are allowed (runc resolves them against "/").
        destination: required(nonEmptyStr),
        type: str,
        source: str,
        options: arrayOf(str),
        uidMappings: idMappings,
        gidMappings: idMappings,
      }),
    ),
    hooks: obj(Object.fromEntries(HOOK_NAMES.map((name) => [name, hookList]))),
    annotations: mapOf(str, annotationKey),
    linux: buildLinuxCheck(),
  });
}

/**
 * Rules spanning several fields. Joining an existing namespace (an entry
 * with a path) counts as having that namespace, as it does in runc.
 */
function checkCrossFields(spec: Spec): void {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const has = (type: string): boolean => namespaces.some((ns) => ns.type === type);
  const userns = namespaces.find((ns) => ns.type === 'user');

  for (const field of ['hostname', 'domainname'] as const) {
    if (spec[field] && !has('uts')) fail(field, 'requires a uts namespace (linux.namespaces has no "uts" entry)');
  }

  for (const field of ['uidMappings', 'gidMappings'] as const) {
    const mappings = linux[field];
    if (userns === undefined) {
      if (mappings !== undefined) fail(`linux.${field}`, 'set, but linux.namespaces has no "user" entry');
    } else if (userns.path === undefined && (mappings === undefined || mappings.length === 0)) {
      fail(`linux.${field}`, 'required when a new user namespace is created');
    }
  }

  if (linux.timeOffsets !== undefined && !has('time')) {
    fail('linux.timeOffsets', 'requires a time namespace (linux.namespaces has no "time" entry)');
  }
  // The kernel takes offsets only before the first process enters a time namespace.
  const timens = namespaces.findIndex((ns) => ns.type === 'time');
  if (linux.timeOffsets !== undefined && timens >= 0 && namespaces[timens].path !== undefined) {
    fail('linux.timeOffsets', `cannot be set for the joined time namespace linux.namespaces[${timens}].path, whose clocks are already set`);
  }
  // Masking needs private mounts; on the host's mount table it would hide
  // the host's own /proc entries.
  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    if ((linux[field]?.length ?? 0) > 0 && !has('mount')) {
      fail(`linux.${field}`, 'requires a mount namespace (linux.namespaces has no "mount" entry)');
    }
  }
  if (linux.netDevices !== undefined && Object.keys(linux.netDevices).length > 0 && !has('network')) {
    fail('linux.netDevices', 'requires a network namespace (linux.namespaces has no "network" entry)');
  }
}
