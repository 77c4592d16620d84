// Schema of the "process" object (also the body of an exec process.json):
// user, args, env, capabilities, rlimits, scheduler, I/O priority, ...

import { CAPABILITY_NAMES } from './capabilities';
import {
  absPath,
  all,
  arrayOf,
  at,
  bool,
  type Check,
  fail,
  I32,
  int,
  obj,
  oneOf,
  required,
  type Rule,
  str,
  U32,
  U64,
  uniqueBy,
} from './check';
import { IOPRIO_CLASSES, SCHEDULER_FLAGS, SCHEDULER_POLICIES } from './enums';
import { idListCheck } from './idlist';
import { RLIMITS } from './rlimits';

// runc refuses a missing or empty argv, though the spec leaves args OPTIONAL.
const ARGS = 'must be a non-empty array of strings';
const args: Check = (v, p) => {
  if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== 'string')) fail(p, ARGS);
};

// The init process splits entries at the first "="; an entry without one or
// without a name cannot be exported (runc refuses both), and a NUL would
// silently truncate the entry at execve.
const envEntry: Check = (v, p) => {
  str(v, p);
  const s = v as string;
  if (!s.includes('=') || s.startsWith('=')) fail(p, `invalid environment variable ${JSON.stringify(s)}: must be NAME=value with a non-empty NAME`);
  if (s.includes('\0')) fail(p, 'must not contain a NUL byte');
};

// "" leaves the affinity alone, as an absent field does.
const cpuList = idListCheck('CPU');

// Mirrors the sched_setattr(2) constraints runc checks before starting. runc bounds nice
// only for the two policies that use it; sched_setattr clamps any other value itself.
const schedulerRules: Rule = (o, p) => {
  const policy = o.policy;
  if ((policy === 'SCHED_OTHER' || policy === 'SCHED_BATCH') && o.nice !== undefined) {
    int(-20, 19, `must be between -20 and 19 when scheduler.policy is ${policy}`)(o.nice, at(p, 'nice'));
  }
  if (o.priority !== undefined && o.priority !== 0 && policy !== 'SCHED_FIFO' && policy !== 'SCHED_RR') {
    fail(at(p, 'priority'), 'only valid with SCHED_FIFO or SCHED_RR');
  }
  if (policy !== 'SCHED_DEADLINE') {
    for (const k of ['runtime', 'deadline', 'period']) {
      if (o[k] !== undefined && o[k] !== 0) fail(at(p, k), 'only valid with SCHED_DEADLINE');
    }
  }
};

export function buildProcessCheck(): Check {
  const capSet = arrayOf(oneOf(CAPABILITY_NAMES, 'capability'));
  return obj({
    terminal: bool,
    consoleSize: obj({ height: required(U64), width: required(U64) }),
    user: required(
      obj({
        uid: required(U32),
        gid: required(U32),
        umask: U32,
        additionalGids: arrayOf(U32),
      }),
    ),
    args: required(args, ARGS),
    env: arrayOf(envEntry),
    cwd: required(absPath()),
    capabilities: obj({
      bounding: capSet,
      effective: capSet,
      inheritable: capSet,
      permitted: capSet,
      ambient: capSet,
    }),
    rlimits: all(
      arrayOf(
        obj({
          type: required(oneOf(Object.keys(RLIMITS), 'rlimit')),
          soft: required(U64),
          hard: required(U64),
        }),
      ),
      uniqueBy('type', 'rlimit'),
    ),
    noNewPrivileges: bool,
    apparmorProfile: str,
    oomScoreAdj: int(-1000, 1000),
    scheduler: obj(
      {
        policy: required(oneOf(SCHEDULER_POLICIES, 'scheduler policy')),
        nice: I32,
        priority: int(-0x80000000, 0x7fffffff),
        flags: arrayOf(oneOf(SCHEDULER_FLAGS, 'scheduler flag')),
        runtime: U64,
        deadline: U64,
        period: U64,
      },
      schedulerRules,
    ),
    selinuxLabel: str,
    ioPriority: obj({
      class: required(oneOf(IOPRIO_CLASSES, 'I/O priority class')),
      priority: int(0, 7),
    }),
    execCPUAffinity: obj({ initial: cpuList, final: cpuList }),
  });
}
