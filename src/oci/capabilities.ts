// The Linux capability names the kernel knows (through CAP_CHECKPOINT_RESTORE)
// and their numbers, as used in process.capabilities.

/** Indexed by capability number (linux/capability.h). */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL', // 5
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE', // 40
]);

/** Highest capability number in CAPABILITY_NAMES. */
export const CAP_LAST_CAP = CAPABILITY_NAMES.length - 1;

/** Capability name to number, e.g. CAPABILITIES.CAP_KILL === 5. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(CAPABILITY_NAMES.map((name, i) => [name, i])),
);

/** Number for a capability name, or undefined (safe for names like "toString"). */
export function capabilityNumber(name: string): number | undefined {
  return Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
}
