// The PLAN message: the final stage of a container process, computed in JS and run by the static stub
// (stub/stage.c) right before execve. Owns the StagePlan shape and its binary encoding (docs/ARCHITECTURE.md).
import { AttrWriter } from './protocol';

/** struct sched_attr without the utilisation clamps (the spec has no fields for them). */
export interface SchedAttr {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

export const PLAN = {
  SETSID: 32,
  KEYRING: 33,
  KEY_LABEL: 34,
  PROCFS_FD: 35,
  CONSOLE: 36,
  SCHED: 37,
  IOPRIO: 38,
  APPARMOR: 39,
  EXEC_LABEL: 40,
  RLIMIT: 41,
  CWD: 42,
  SECCOMP: 43,
  SECCOMP_NOTIFY: 44,
  BOUNDING: 45,
  USER: 46,
  CAPS: 47,
  NO_NEW_PRIVS: 48,
  ARG: 49,
  ENV: 50,
  UMASK: 51,
  PERSONALITY: 52,
  PRESERVE_FDS: 53,
  READY: 54,
  FIFO_FD: 55,
  HOOK: 56,
} as const;

// The attributes nested in one PLAN.HOOK.
export const HOOK_ATTR = { PATH: 1, ARG: 2, ENV: 3, TIMEOUT: 4, NAME: 5, STATE: 6 } as const;

// A startContainer hook as the stage runs it: exactly this argv and env, state on stdin. name prefixes its
// errors (`hooks.startContainer[0] (/path)`); timeoutText is the timeout as the message prints it.
export interface StageHook {
  name: string;
  path: string;
  argv: string[];
  env: string[];
  timeoutMs: number;
  timeoutText: string;
  state: string;
}

// The console flag: ONLCR is cleared on the pty (a foreground exec's own proxy).
export const CONSOLE_CLEAR_ONLCR = 1;

// Every fd is a number in the process that runs the stage.
export interface StagePlan {
  // exec: a session of its own and runc's session keyring `_ses.<id>`, created with keyLabel (SELinux).
  setsid?: boolean;
  keyring?: string;
  keyLabel?: string;
  // A verified procfs root (src/linux/procfs.ts): LSM attributes and reopening fds go through it.
  procfsFd?: number;
  // exec with process.terminal: the connected console socket the pty master is sent over.
  console?: { fd: number; rows: number; cols: number; clearOnlcr: boolean };
  // cpusSet: linux.resources.cpu.cpus is set, which explains an EPERM for SCHED_DEADLINE.
  sched?: { attr: SchedAttr; cpusSet: boolean };
  ioprio?: number;
  apparmor?: string;
  execLabel?: string;
  // what names the entry in errors: `process.rlimits[0] (RLIMIT_NOFILE)`.
  rlimits: { resource: number; soft: bigint; hard: bigint; what: string }[];
  cwd: string;
  // listener: SCMP_ACT_NOTIFY's socket, connected to listenerPath, and the state sent with the fd.
  seccomp?: { flags: number; filter: Buffer; listener?: { fd: number; state: string } };
  // Capabilities up to lastCap not in keep are dropped from the bounding set.
  bounding: { lastCap: number; keep: bigint };
  user: { uid: number; gid: number; groups: number[] };
  caps: { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
  noNewPrivileges: boolean;
  args: string[];
  env: string[];
  umask: number;
  personality?: number;
  preserveFds: number;
  // create: READY on the socket once everything that can fail before `start` has run, then the exec fifo
  // (an O_PATH fd) is reopened for writing, which blocks until `start`.
  ready?: boolean;
  fifoFd?: number;
  // create: run after the fifo was opened, as the container's user; the first failure stops the list.
  hooks?: StageHook[];
}

// struct sched_attr up to sched_period (SCHED_ATTR_SIZE_VER0), the size the kernel is told.
export function schedAttrBytes(a: SchedAttr): Buffer {
  const b = Buffer.alloc(48);
  b.writeUInt32LE(48, 0);
  b.writeUInt32LE(a.policy, 4);
  b.writeBigUInt64LE(BigInt(a.flags), 8);
  b.writeInt32LE(a.nice, 16);
  b.writeUInt32LE(a.priority >>> 0, 20);
  b.writeBigUInt64LE(a.runtime, 24);
  b.writeBigUInt64LE(a.deadline, 32);
  b.writeBigUInt64LE(a.period, 40);
  return b;
}

const u64s = (...values: bigint[]): Buffer => {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, v), 8 * i));
  return b;
};

const u32s = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return b;
};

const cstr = (s: string): Buffer => Buffer.from(s + '\0');

// In the order the stage applies them (the stub does not depend on it, but a reader of a dump does).
export function encodePlan(p: StagePlan): Buffer {
  const w = new AttrWriter();
  if (p.setsid) w.add(PLAN.SETSID, Buffer.alloc(0));
  if (p.keyring !== undefined) w.string(PLAN.KEYRING, p.keyring);
  if (p.keyLabel) w.string(PLAN.KEY_LABEL, p.keyLabel);
  if (p.procfsFd !== undefined) w.u32(PLAN.PROCFS_FD, p.procfsFd);
  if (p.console) {
    const c = p.console;
    w.u32(PLAN.CONSOLE, c.fd, c.rows, c.cols, c.clearOnlcr ? CONSOLE_CLEAR_ONLCR : 0);
  }
  if (p.sched) w.add(PLAN.SCHED, Buffer.concat([u32s(p.sched.cpusSet ? 1 : 0), schedAttrBytes(p.sched.attr)]));
  if (p.ioprio !== undefined) w.u32(PLAN.IOPRIO, p.ioprio);
  if (p.apparmor) w.string(PLAN.APPARMOR, p.apparmor);
  if (p.execLabel) w.string(PLAN.EXEC_LABEL, p.execLabel);
  for (const r of p.rlimits) w.chunked(PLAN.RLIMIT, Buffer.concat([u32s(r.resource), u64s(r.soft, r.hard), cstr(r.what)]));
  // The path, then the quoted form errors show (JSON.stringify, as the JS init printed it).
  w.chunked(PLAN.CWD, Buffer.concat([cstr(p.cwd), cstr(JSON.stringify(p.cwd))]));
  if (p.seccomp) {
    w.chunked(PLAN.SECCOMP, Buffer.concat([u32s(p.seccomp.flags), p.seccomp.filter]));
    const l = p.seccomp.listener;
    if (l) w.chunked(PLAN.SECCOMP_NOTIFY, Buffer.concat([u32s(l.fd), Buffer.from(l.state)]));
  }
  w.add(PLAN.BOUNDING, Buffer.concat([u32s(p.bounding.lastCap), u64s(p.bounding.keep)]));
  w.chunked(PLAN.USER, u32s(p.user.uid, p.user.gid, ...p.user.groups));
  w.add(PLAN.CAPS, u64s(p.caps.effective, p.caps.permitted, p.caps.inheritable, p.caps.ambient));
  if (p.noNewPrivileges) w.add(PLAN.NO_NEW_PRIVS, Buffer.alloc(0));
  for (const a of p.args) w.string(PLAN.ARG, a);
  for (const e of p.env) w.string(PLAN.ENV, e);
  w.u32(PLAN.UMASK, p.umask);
  if (p.personality !== undefined) w.u32(PLAN.PERSONALITY, p.personality);
  w.u32(PLAN.PRESERVE_FDS, p.preserveFds);
  if (p.ready) w.add(PLAN.READY, Buffer.alloc(0));
  if (p.fifoFd !== undefined) w.u32(PLAN.FIFO_FD, p.fifoFd);
  for (const h of p.hooks ?? []) w.chunked(PLAN.HOOK, encodeHook(h));
  return w.build();
}

function encodeHook(h: StageHook): Buffer {
  const w = new AttrWriter().string(HOOK_ATTR.NAME, h.name).string(HOOK_ATTR.PATH, h.path);
  for (const a of h.argv) w.string(HOOK_ATTR.ARG, a);
  for (const e of h.env) w.string(HOOK_ATTR.ENV, e);
  w.chunked(HOOK_ATTR.TIMEOUT, Buffer.concat([u32s(h.timeoutMs), cstr(h.timeoutText)]));
  return w.string(HOOK_ATTR.STATE, h.state).build();
}
