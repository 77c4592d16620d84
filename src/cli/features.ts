// `ocirun features`: the runtime-spec Features document (features.md), in runc's key order and indentation.
// Owns the document's shape; every list is read from the table the code itself uses, so it cannot drift.
import { CAPABILITY_NAMES } from '../oci/capabilities';
import { OCI_VERSION } from '../oci/defaults';
import { HOOK_NAMES, SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../oci/enums';
import { knownMountOptions } from '../init/mountopts';
import { NS_FLAGS } from '../container/namespaces';
import { ARCH_OF_TOKEN, COMPILED_SECCOMP_FLAGS } from '../seccomp/compile';
import { needArgs, type Command } from './command';

declare const OCIRUN_VERSION: string;
declare const OCIRUN_COMMIT: string;

const sorted = (l: Iterable<string>) => [...l].sort();

/**
 * The booleans say what ocirun implements, not what this host has (the spec: "irrelevant to the host").
 * - cgroup.systemd / systemdUser: false, there is no systemd driver (--systemd-cgroup falls back to cgroupfs).
 * - apparmor / selinux: true, the init writes process.apparmorProfile and the SELinux labels; on a host
 *   without the LSM, create fails with a message instead (src/container/preflight.ts, src/init/lsm.ts).
 * - intelRdt: false, preflight refuses linux.intelRdt (no resctrl group support yet).
 * - seccomp.archs: only the architectures the BPF compiler has syscall tables for; the validator also
 *   accepts the other SCMP_ARCH_* names, but they add nothing to the filter.
 * - annotations: runc's org.opencontainers.runc.* keys would lie about the implementation and there is no
 *   libseccomp, so ocirun says its own version and commit under io.github.ocirun.*.
 */
export function features(version: string, commit: string): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: sorted(Object.keys(NS_FLAGS)),
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: sorted(SECCOMP_ACTIONS),
        operators: sorted(SECCOMP_OPERATORS),
        archs: sorted(Object.keys(ARCH_OF_TOKEN)),
        knownFlags: [...SECCOMP_FLAGS],
        supportedFlags: SECCOMP_FLAGS.filter((f) => COMPILED_SECCOMP_FLAGS.includes(f)),
      },
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
    },
    annotations: {
      'io.github.ocirun.checkpoint.enabled': 'false',
      'io.github.ocirun.commit': commit,
      'io.github.ocirun.version': version,
    },
  };
}

const cmd: Command = {
  usage: 'features',
  args: '',
  flags: [],
  run(_g, _f, args) {
    needArgs(args, 0, '', 'features');
    // Go's json.MarshalIndent(v, "", "    ") plus the newline runc prints.
    process.stdout.write(`${JSON.stringify(features(OCIRUN_VERSION, OCIRUN_COMMIT), null, '    ')}\n`);
  },
};
export default cmd;
