// Tests for the PLAN the stub's final stage runs (src/process/plan.ts, src/process/stage.ts): the binary encoding
// attribute by attribute (read back as the stub reads it, ATTR_MORE pieces joined), and the mapping from the spec.
import { describe, expect, it } from 'vitest';
import { ATTR_MORE, AttrWriter, parseAttrs } from '../../src/process/protocol';
import { CONSOLE_CLEAR_ONLCR, encodePlan, HOOK_ATTR, PLAN, schedAttrBytes, type StagePlan } from '../../src/process/plan';
import { capMask, listenerState, passwdHome, processEnv, stageHooks, stagePlan } from '../../src/process/stage';
import type { Process, Spec } from '../../src/oci';

const base: StagePlan = {
  rlimits: [],
  cwd: '/',
  bounding: { lastCap: 40, keep: 0n },
  user: { uid: 0, gid: 0, groups: [] },
  caps: { effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n },
  noNewPrivileges: false,
  args: ['sh'],
  env: [],
  umask: 0o22,
  preserveFds: 0,
};

const decode = (p: StagePlan) => parseAttrs(encodePlan(p));
const one = (p: StagePlan, attr: number): Buffer => {
  const found = decode(p).filter((a) => a.attr === attr);
  expect(found, `attribute ${attr}`).toHaveLength(1);
  return found[0].data;
};
const strs = (b: Buffer) => b.toString().split('\0').slice(0, -1);

describe('encodePlan', () => {
  it('always carries cwd, bounding set, user, capabilities, umask and preserved fds; nothing optional by default', () => {
    expect(decode(base).map((a) => a.attr)).toEqual([
      PLAN.CWD, PLAN.BOUNDING, PLAN.USER, PLAN.CAPS, PLAN.ARG, PLAN.UMASK, PLAN.PRESERVE_FDS,
    ]);
  });

  it('cwd is the path and its JSON-quoted form for messages, each NUL-terminated', () => {
    expect(strs(one({ ...base, cwd: '/a "b"' }, PLAN.CWD))).toEqual(['/a "b"', '"/a \\"b\\""']);
  });

  it('capability masks as four u64, the bounding set as u32 last cap and u64 keep mask', () => {
    const caps = { effective: 1n << 21n, permitted: (1n << 40n) | 1n, inheritable: 0n, ambient: 1n << 63n };
    const c = one({ ...base, caps }, PLAN.CAPS);
    expect([0, 8, 16, 24].map((o) => c.readBigUInt64LE(o))).toEqual([caps.effective, caps.permitted, 0n, caps.ambient]);
    const b = one({ ...base, bounding: { lastCap: 40, keep: 0x20000420n } }, PLAN.BOUNDING);
    expect(b.length).toBe(12);
    expect([b.readUInt32LE(0), b.readBigUInt64LE(4)]).toEqual([40, 0x20000420n]);
  });

  it('user as uid, gid, then the additional gids', () => {
    const u = one({ ...base, user: { uid: 1000, gid: 1001, groups: [10, 20, 4294967294] } }, PLAN.USER);
    expect([0, 4, 8, 12, 16].map((o) => u.readUInt32LE(o))).toEqual([1000, 1001, 10, 20, 4294967294]);
  });

  it('one attribute per argument and environment entry, in order', () => {
    const attrs = decode({ ...base, args: ['sh', '-c', ''], env: ['A=1', 'PATH=/bin'] });
    expect(attrs.filter((a) => a.attr === PLAN.ARG).map((a) => a.data.toString())).toEqual(['sh\0', '-c\0', '\0']);
    expect(attrs.filter((a) => a.attr === PLAN.ENV).map((a) => a.data.toString())).toEqual(['A=1\0', 'PATH=/bin\0']);
  });

  it('splits data longer than a u16 length into ATTR_MORE pieces the reader joins', () => {
    const big = `BIG=${'x'.repeat(200_000)}`;
    const raw = encodePlan({ ...base, env: [big] });
    const types: number[] = [];
    for (let off = 0; off < raw.length; ) {
      const len = raw.readUInt16LE(off + 2);
      types.push(raw.readUInt16LE(off));
      off += 4 + len + ((4 - (len % 4)) % 4);
    }
    expect(types.filter((t) => (t & ~ATTR_MORE) === PLAN.ENV)).toEqual([PLAN.ENV | ATTR_MORE, PLAN.ENV | ATTR_MORE, PLAN.ENV | ATTR_MORE, PLAN.ENV]);
    expect(strs(one({ ...base, env: [big] }, PLAN.ENV))).toEqual([big]);
  });

  it('an rlimit as u32 resource, u64 soft and hard, and the name errors use', () => {
    const r = one({ ...base, rlimits: [{ resource: 7, soft: 1024n, hard: 2n ** 64n - 1n, what: 'process.rlimits[0] (RLIMIT_NOFILE)' }] }, PLAN.RLIMIT);
    expect([r.readUInt32LE(0), r.readBigUInt64LE(4), r.readBigUInt64LE(12)]).toEqual([7, 1024n, 2n ** 64n - 1n]);
    expect(strs(r.subarray(20))).toEqual(['process.rlimits[0] (RLIMIT_NOFILE)']);
  });

  it('seccomp as u32 flags and the program; the listener as its fd and the state', () => {
    const filter = Buffer.alloc(16, 7);
    const p = { ...base, seccomp: { flags: 8, filter, listener: { fd: 9, state: '{"a":1}' } } };
    const s = one(p, PLAN.SECCOMP);
    expect([s.readUInt32LE(0), s.subarray(4)]).toEqual([8, filter]);
    const n = one(p, PLAN.SECCOMP_NOTIFY);
    expect([n.readUInt32LE(0), n.subarray(4).toString()]).toEqual([9, '{"a":1}']);
  });

  it('the console as its socket fd, rows, cols and flags; the scheduler as a flag and struct sched_attr', () => {
    const c = one({ ...base, console: { fd: 5, rows: 33, cols: 101, clearOnlcr: true } }, PLAN.CONSOLE);
    expect([0, 4, 8, 12].map((o) => c.readUInt32LE(o))).toEqual([5, 33, 101, CONSOLE_CLEAR_ONLCR]);
    const attr = { policy: 6, flags: 1, nice: -5, priority: 0, runtime: 10n, deadline: 30n, period: 30n };
    const s = one({ ...base, sched: { attr, cpusSet: true } }, PLAN.SCHED);
    expect(s.readUInt32LE(0)).toBe(1);
    expect(s.subarray(4)).toEqual(schedAttrBytes(attr));
  });

  it('empty flags for setsid, no_new_privs and READY; strings for the keyring and labels; u32 fds', () => {
    const p: StagePlan = {
      ...base, setsid: true, keyring: '_ses.c1', keyLabel: 'k', procfsFd: 7, apparmor: 'prof', execLabel: 'l',
      noNewPrivileges: true, ready: true, fifoFd: 8, ioprio: 0x4006, personality: 8,
    };
    expect(one(p, PLAN.SETSID).length).toBe(0);
    expect(one(p, PLAN.NO_NEW_PRIVS).length).toBe(0);
    expect(one(p, PLAN.READY).length).toBe(0);
    expect(strs(one(p, PLAN.KEYRING))).toEqual(['_ses.c1']);
    expect(strs(one(p, PLAN.APPARMOR))).toEqual(['prof']);
    expect(strs(one(p, PLAN.EXEC_LABEL))).toEqual(['l']);
    expect(strs(one(p, PLAN.KEY_LABEL))).toEqual(['k']);
    for (const [attr, v] of [[PLAN.PROCFS_FD, 7], [PLAN.FIFO_FD, 8], [PLAN.IOPRIO, 0x4006], [PLAN.PERSONALITY, 8]] as const) {
      expect(one(p, attr).readUInt32LE(0)).toBe(v);
    }
  });
});

describe('schedAttrBytes', () => {
  it('is struct sched_attr VER0: size 48, then policy, flags, nice, priority, runtime, deadline, period', () => {
    const b = schedAttrBytes({ policy: 6, flags: 1, nice: -5, priority: 3, runtime: 10n, deadline: 20n, period: 30n });
    expect(b.length).toBe(48);
    expect([b.readUInt32LE(0), b.readUInt32LE(4), b.readBigUInt64LE(8), b.readInt32LE(16), b.readUInt32LE(20)]).toEqual([48, 6, 1n, -5, 3]);
    expect([b.readBigUInt64LE(24), b.readBigUInt64LE(32), b.readBigUInt64LE(40)]).toEqual([10n, 20n, 30n]);
  });
});

describe('AttrWriter.chunked', () => {
  it('writes data of exactly one piece as one attribute, and empty data as a bare header', () => {
    expect(parseAttrs(new AttrWriter().chunked(3, Buffer.alloc(0xfffc, 1)).build())).toHaveLength(1);
    expect(new AttrWriter().chunked(3, Buffer.alloc(0)).build().toString('hex')).toBe('03000000');
  });
});

describe('stagePlan', () => {
  const spec: Spec = { ociVersion: '1.3.0', linux: { resources: { cpu: { cpus: '0' } } } } as Spec;
  const facts = { lastCap: 40, env: ['PATH=/bin', 'HOME=/root'], preserveFds: 2 };

  it('maps process.* onto the plan: masks up to lastCap, rlimits with their names, defaults for cwd and umask', () => {
    const proc: Process = {
      args: ['sh'],
      cwd: '',
      user: { uid: 5, gid: 6, additionalGids: [7] },
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_KILL'], ambient: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 2 ** 64 }],
      noNewPrivileges: true,
      scheduler: { policy: 'SCHED_BATCH', nice: 3 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 },
    } as Process;
    const p = stagePlan(spec, proc, facts);
    // CAP_CHECKPOINT_RESTORE (40) is kept at lastCap 40 and dropped from the mask below it.
    expect(p.bounding).toEqual({ lastCap: 40, keep: 1n | (1n << 40n) });
    expect(stagePlan(spec, proc, { ...facts, lastCap: 39 }).bounding.keep).toBe(1n);
    expect(p.caps).toEqual({ effective: 1n << 5n, permitted: 0n, inheritable: 0n, ambient: 1n << 5n });
    expect(p.rlimits).toEqual([{ resource: 7, soft: 10n, hard: 2n ** 64n - 1n, what: 'process.rlimits[0] (RLIMIT_NOFILE)' }]);
    expect(p.user).toEqual({ uid: 5, gid: 6, groups: [7] });
    expect([p.cwd, p.umask, p.noNewPrivileges, p.preserveFds, p.env]).toEqual(['/', 0o22, true, 2, facts.env]);
    expect(p.sched?.cpusSet).toBe(true);
    expect(p.sched?.attr).toMatchObject({ policy: 3, nice: 3 });
    expect(p.ioprio).toBe((2 << 13) | 6);
  });

  it.each(['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const)('refuses an unknown capability in %s, naming the set', (set) => {
    expect(() => stagePlan(spec, { args: ['sh'], cwd: '/', capabilities: { [set]: ['CAP_KILL', 'CAP_NOPE'] } } as unknown as Process, facts)).toThrow(
      `process.capabilities.${set}: unknown capability CAP_NOPE`,
    );
  });

  // Regression (was a bug): names were looked up in a plain object, so "toString" found Object.prototype's.
  it('refuses names inherited from Object.prototype and lowercase names', () => {
    for (const n of ['toString', 'constructor', 'cap_kill']) {
      expect(() => stagePlan(spec, { args: ['sh'], cwd: '/', capabilities: { effective: [n] } } as Process, facts)).toThrow(`unknown capability ${n}`);
    }
  });

  it('counts a capability listed twice once; the kernel\'s numbers for rlimit types', () => {
    const p = stagePlan(spec, {
      args: ['sh'], cwd: '/', capabilities: { effective: ['CAP_KILL', 'CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_RTTIME', soft: 5, hard: 6 }],
    } as Process, facts);
    expect(p.caps.effective).toBe(1n << 5n);
    expect(p.rlimits.map((r) => [r.resource, r.soft, r.hard])).toEqual([[4, 0n, 0n], [15, 5n, 6n]]);
  });

  it('refuses an unknown rlimit type', () => {
    expect(() => stagePlan(spec, { args: ['sh'], cwd: '/', rlimits: [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }] } as Process, facts)).toThrow(
      'process.rlimits: unknown type RLIMIT_FOO',
    );
  });

  it('root with no capabilities drops every bounding capability and sets empty sets', () => {
    const p = stagePlan(spec, { args: ['sh'], cwd: '/x' } as Process, facts);
    expect(p.bounding.keep).toBe(0n);
    expect(p.caps).toEqual({ effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
    expect(p.user).toEqual({ uid: 0, gid: 0, groups: [] });
  });
});

describe('processEnv and passwdHome', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\nv:x:1000:1000::/second:/bin/sh\n';

  it('keeps the first position and last value of a name, adds HOME from passwd last', () => {
    let asked = 0;
    const env = processEnv(['A=1', 'B=2', 'A=3'], () => (asked++, passwdHome(passwd, 1000)));
    expect(env).toEqual(['A=3', 'B=2', 'HOME=/home/u']);
    expect(asked).toBe(1);
  });

  it('does not look HOME up when it is set; an empty one is looked up; no entry means "/"', () => {
    expect(processEnv(['HOME=/x'], () => 'never')).toEqual(['HOME=/x']);
    expect(processEnv(['HOME=', 'Z=1'], () => passwdHome(passwd, 0))).toEqual(['HOME=/root', 'Z=1']);
    expect(processEnv([], () => passwdHome(passwd, 4242))).toEqual(['HOME=/']);
    expect(processEnv([], () => passwdHome('', 0))).toEqual(['HOME=/']);
  });

  it('refuses an entry without a name', () => {
    expect(() => processEnv(['=x'], () => '/')).toThrow('process.env: invalid environment variable: "=x"');
    expect(() => processEnv(['JUSTANAME'], () => '/')).toThrow('invalid environment variable');
  });
});

describe('capMask', () => {
  it('skips capabilities above lastCap', () => {
    expect(capMask(['CAP_CHOWN', 'CAP_BPF'], 38, 'effective')).toBe(1n);
    expect(capMask(['CAP_CHOWN', 'CAP_BPF'], 39, 'effective')).toBe(1n | (1n << 39n));
  });
});

describe('listenerState', () => {
  const f = { ociVersion: '1.3.0', id: 'c1', bundle: '/b', spec: { ociVersion: '1.3.0', annotations: { a: 'b' }, linux: { seccomp: { listenerMetadata: 'm' } } } as Spec, pid: 42 };

  it('names the init pid in the state only while creating', () => {
    expect(JSON.parse(listenerState({ ...f, status: 'creating' }))).toEqual({
      ociVersion: '1.3.0', fds: ['seccompFd'], pid: 42, metadata: 'm',
      state: { ociVersion: '1.3.0', id: 'c1', status: 'creating', pid: 42, bundle: '/b', annotations: { a: 'b' } },
    });
    const running = JSON.parse(listenerState({ ...f, status: 'running' }));
    expect(running.pid).toBe(42);
    expect(running.state).toEqual({ ociVersion: '1.3.0', id: 'c1', status: 'running', bundle: '/b', annotations: { a: 'b' } });
  });
});

describe('hooks in the plan', () => {
  const state = { ociVersion: '1.3.0', id: 'c1', status: 'created' as const, pid: 1, bundle: '/b' };

  it('stageHooks: argv0 from args[0] (the path without args), the process env without env, a timeout and its text', () => {
    const hooks = stageHooks(
      'startContainer',
      {
        startContainer: [
          { path: '/bin/hook', args: ['hook', '-x'], env: ['A=1', 'A=2', 'NONAME'], timeout: 2 },
          { path: '/bin/other' },
        ],
      },
      state,
      ['PATH=/bin', 'HOME=/root'],
    );
    expect(hooks).toEqual([
      { name: 'hooks.startContainer[0] (/bin/hook)', path: '/bin/hook', argv: ['hook', '-x'], env: ['A=2'], timeoutMs: 2000, timeoutText: '2.0', state: JSON.stringify(state) },
      { name: 'hooks.startContainer[1] (/bin/other)', path: '/bin/other', argv: ['/bin/other'], env: ['PATH=/bin', 'HOME=/root'], timeoutMs: 0, timeoutText: '0.0', state: JSON.stringify(state) },
    ]);
    expect(stageHooks('startContainer', { startContainer: [{ path: '/h', env: [] }] }, state, ['X=1'])[0].env).toEqual([]);
    expect(stageHooks('startContainer', undefined, state, [])).toEqual([]);
  });

  it('one nested attribute block per hook, in order', () => {
    const hook = { name: 'n', path: '/p', argv: ['a', 'b'], env: ['E=1'], timeoutMs: 1500, timeoutText: '1.5', state: '{}' };
    const found = decode({ ...base, hooks: [hook, { ...hook, name: 'm', env: [] }] }).filter((a) => a.attr === PLAN.HOOK);
    expect(found).toHaveLength(2);
    const inner = parseAttrs(found[0].data);
    expect(inner.map((a) => a.attr)).toEqual([HOOK_ATTR.NAME, HOOK_ATTR.PATH, HOOK_ATTR.ARG, HOOK_ATTR.ARG, HOOK_ATTR.ENV, HOOK_ATTR.TIMEOUT, HOOK_ATTR.STATE]);
    expect(inner.filter((a) => a.attr === HOOK_ATTR.ARG).map((a) => a.data.toString())).toEqual(['a\0', 'b\0']);
    const t = inner.find((a) => a.attr === HOOK_ATTR.TIMEOUT)!.data;
    expect([t.readUInt32LE(0), t.subarray(4).toString()]).toEqual([1500, '1.5\0']);
    expect(parseAttrs(found[1].data).filter((a) => a.attr === HOOK_ATTR.ENV)).toEqual([]);
  });
});
