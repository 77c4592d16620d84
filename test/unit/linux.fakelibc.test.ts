// Tests through the koffi seam (setLibc in src/linux/libc.ts): a fake Libc records the kernel calls of
// src/init/credentials.ts (capabilities, bounding set, rlimits, user) and src/process/seal.ts (sealedSelf).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyCapabilities, applyRlimits, dropBoundingSet, setUser } from '../../src/init/credentials';
import { setLibc } from '../../src/linux/libc';
import { fakeLibc, type Call } from './helpers/fakelibc';
import { SysError } from '../../src/linux/errors';
import type { Process } from '../../src/oci';
import { sealedSelf } from '../../src/process/seal';

// The running kernel's /proc/sys/kernel/cap_last_cap decides which capabilities exist; let each test
// pretend to be a given kernel. Everything else reads the real filesystem.
const kernel = vi.hoisted(() => ({ capLastCap: '40\n' as string | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((p: fs.PathOrFileDescriptor, o?: unknown) => {
    if (p === '/proc/sys/kernel/cap_last_cap') {
      if (kernel.capLastCap === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return kernel.capLastCap;
    }
    return (real.readFileSync as (p: fs.PathOrFileDescriptor, o?: unknown) => string | Buffer)(p, o);
  }) as typeof real.readFileSync;
  return { ...real, default: { ...real, readFileSync }, readFileSync };
});

// Keep warnings out of the test output, and let the tests check them.
const log = vi.hoisted(() => ({ warn: vi.fn(), debug: vi.fn(), error: vi.fn(), log: vi.fn() }));
vi.mock('../../src/log', () => log);

// Kernel ABI values, independent of src/linux/constants.ts.
const PR_CAPBSET_DROP = 24;
const PR_SET_KEEPCAPS = 8;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const AT_FDCWD = -100;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000; // = O_CLOEXEC
const AT_EMPTY_PATH = 0x1000;
const MOUNT_ATTR_RDONLY = 1n;
const CAP = { CHOWN: 0, DAC_OVERRIDE: 1, KILL: 5, NET_BIND_SERVICE: 10, SYS_ADMIN: 21, AUDIT_WRITE: 29, SYSLOG: 34, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40 };


const proc = (over: Partial<Process>): Process => ({ cwd: '/', user: { uid: 0, gid: 0 }, ...over });
const bits = (...caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);

afterEach(() => {
  setLibc(undefined);
  kernel.capLastCap = '40\n';
  vi.clearAllMocks();
});

describe('applyCapabilities', () => {
  it('passes each set as a 64-bit mask to capset, then clears and raises the ambient set', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyCapabilities(
      proc({
        capabilities: {
          effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYSLOG', 'CAP_CHECKPOINT_RESTORE'],
          inheritable: ['CAP_NET_BIND_SERVICE'],
          ambient: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        },
      }),
    );
    expect(calls).toEqual([
      ['capset', bits(CAP.KILL, CAP.NET_BIND_SERVICE), bits(CAP.KILL, CAP.NET_BIND_SERVICE, CAP.SYSLOG, CAP.CHECKPOINT_RESTORE), bits(CAP.NET_BIND_SERVICE)],
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0],
      // Raised in capability-number order, not in the order the config lists them.
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP.CHOWN],
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP.NET_BIND_SERVICE],
    ]);
    // CAP_SYSLOG (34) and CAP_CHECKPOINT_RESTORE (40) live in the high word: the mask must be 64-bit.
    expect(calls[0][2]).toBe(0x100_0000_0420n | 0x4_0000_0000n);
  });

  it('drops every capability when none are configured', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyCapabilities(proc({}));
    expect(calls).toEqual([
      ['capset', 0n, 0n, 0n],
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0],
    ]);
  });

  it('counts a capability listed twice once', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyCapabilities(proc({ capabilities: { effective: ['CAP_KILL', 'CAP_KILL'] } }));
    expect(calls[0]).toEqual(['capset', bits(CAP.KILL), 0n, 0n]);
  });

  it.each(['effective', 'permitted', 'inheritable'] as const)('rejects an unknown capability in %s, naming the set, before capset', (set) => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    expect(() => applyCapabilities(proc({ capabilities: { [set]: ['CAP_KILL', 'CAP_FLY'] } }))).toThrow(
      `process.capabilities.${set}: unknown capability CAP_FLY`,
    );
    expect(calls).toEqual([]);
  });

  it('rejects an unknown ambient capability, naming the set', () => {
    setLibc(fakeLibc().libc);
    expect(() => applyCapabilities(proc({ capabilities: { ambient: ['cap_kill'] } }))).toThrow(
      'process.capabilities.ambient: unknown capability cap_kill',
    );
  });

  // Regression (was a bug): capMask looks names up with CAPABILITIES[n], a plain object, so "toString" or "constructor"
  // find Object.prototype members instead of undefined and BigInt() then throws an unrelated
  // TypeError; capabilityNumber() from src/oci/capabilities.ts exists to avoid exactly this.
  it('rejects names inherited from Object.prototype as unknown capabilities', () => {
    setLibc(fakeLibc().libc);
    expect(() => applyCapabilities(proc({ capabilities: { effective: ['toString'] } }))).toThrow(
      'process.capabilities.effective: unknown capability toString',
    );
  });

  // create warns about them on the runtime's log (src/container/preflight.ts); the init's stderr is the container's.
  it('skips, silently, capabilities the running kernel does not have', () => {
    kernel.capLastCap = '37\n'; // a 5.4 kernel: no CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyCapabilities(proc({ capabilities: { effective: ['CAP_KILL', 'CAP_BPF'], permitted: ['CAP_PERFMON', 'CAP_KILL'], ambient: ['CAP_CHECKPOINT_RESTORE'] } }));
    expect(calls).toEqual([
      ['capset', bits(CAP.KILL), bits(CAP.KILL), 0n],
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0],
    ]);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('goes on when raising an ambient capability fails (it is not inheritable)', () => {
    const { libc, calls } = fakeLibc({
      prctl: ((op: number, a2: number, a3: number) => {
        if (op === PR_CAP_AMBIENT && a2 === PR_CAP_AMBIENT_RAISE && a3 === CAP.CHOWN) throw new SysError('prctl', 1, '47');
        return 0;
      }) as (...a: never[]) => unknown,
    });
    setLibc(libc);
    expect(() => applyCapabilities(proc({ capabilities: { ambient: ['CAP_CHOWN', 'CAP_KILL'] } }))).not.toThrow();
    expect(calls.slice(2)).toEqual([
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP.CHOWN],
      ['prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP.KILL],
    ]);
    expect(log.debug).toHaveBeenCalledTimes(1);
  });

  it('lets a capset failure through', () => {
    setLibc(fakeLibc({ capset: () => { throw new SysError('capset', 1); } }).libc);
    expect(() => applyCapabilities(proc({}))).toThrow('capset: operation not permitted');
  });
});

describe('dropBoundingSet', () => {
  const dropped = (calls: Call[]) => {
    expect(calls.every(([name, op]) => name === 'prctl' && op === PR_CAPBSET_DROP)).toBe(true);
    return calls.map((c) => c[2] as number);
  };

  it('drops every capability up to cap_last_cap except the ones kept, in order', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    dropBoundingSet(proc({ capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_AUDIT_WRITE'] } }));
    const all = Array.from({ length: 41 }, (_, i) => i);
    expect(dropped(calls)).toEqual(all.filter((c) => ![CAP.CHOWN, CAP.KILL, CAP.AUDIT_WRITE].includes(c)));
  });

  it('drops all of them when no bounding set is given', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    dropBoundingSet(proc({}));
    expect(dropped(calls)).toEqual(Array.from({ length: 41 }, (_, i) => i));
  });

  it('stops at the running kernel\'s last capability and ignores newer ones in the config', () => {
    kernel.capLastCap = '38\n';
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    dropBoundingSet(proc({ capabilities: { bounding: ['CAP_SYS_ADMIN', 'CAP_BPF'] } }));
    expect(dropped(calls)).toEqual(Array.from({ length: 39 }, (_, i) => i).filter((c) => c !== CAP.SYS_ADMIN));
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('assumes CAP_CHECKPOINT_RESTORE (40) is last when cap_last_cap cannot be read', () => {
    kernel.capLastCap = undefined;
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    dropBoundingSet(proc({ capabilities: { bounding: ['CAP_CHECKPOINT_RESTORE'] } }));
    expect(dropped(calls)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('rejects an unknown bounding capability before dropping anything', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    expect(() => dropBoundingSet(proc({ capabilities: { bounding: ['CAP_NOPE'] } }))).toThrow(
      'process.capabilities.bounding: unknown capability CAP_NOPE',
    );
    expect(calls).toEqual([]);
  });
});

describe('applyRlimits', () => {
  it('sets each limit on the calling process with the kernel resource number', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyRlimits(proc({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_RTTIME', soft: 5, hard: 6 }] }));
    expect(calls).toEqual([
      ['prlimit', 0, 7, 1024n, 4096n],
      ['prlimit', 0, 4, 0n, 0n],
      ['prlimit', 0, 15, 5n, 6n],
    ]);
  });

  it('names the limit that failed, with runc\'s wording', () => {
    setLibc(fakeLibc({ prlimit: (_p: number, res: number) => { if (res === 7) throw new SysError('prlimit', 1, '7'); } }).libc);
    expect(() =>
      applyRlimits(proc({ rlimits: [{ type: 'RLIMIT_CORE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }] })),
    ).toThrow('process.rlimits[1] (RLIMIT_NOFILE): error setting rlimit type 7: operation not permitted');
  });

  // JSON numbers are doubles: RLIM_INFINITY written as 18446744073709551615 arrives as 2^64, which a
  // 64-bit word would wrap to 0 (a zero limit instead of none).
  it('passes 2^64-1 (RLIM_INFINITY) through instead of wrapping to 0', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    applyRlimits(proc({ rlimits: [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }] }));
    expect(calls).toEqual([['prlimit', 0, 4, 0xffffffffffffffffn, 0xffffffffffffffffn]]);
  });

  it('rejects an unknown type', () => {
    setLibc(fakeLibc().libc);
    expect(() => applyRlimits(proc({ rlimits: [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }] }))).toThrow('process.rlimits: unknown type RLIMIT_FOO');
  });
});

describe('setUser', () => {
  it('keeps capabilities across the uid change and sets groups, then gid, then uid (this thread first)', () => {
    const { libc, calls } = fakeLibc();
    setLibc(libc);
    setUser(proc({ user: { uid: 1000, gid: 100, additionalGids: [10, 20] } }));
    expect(calls).toEqual([
      ['prctl', PR_SET_KEEPCAPS, 1],
      ['setgroups', [10, 20]],
      ['setresgid', 100, 100, 100],
      ['setresuidThread', 1000, 1000, 1000],
      ['setresuid', 1000, 1000, 1000],
      ['prctl', PR_SET_KEEPCAPS, 0],
    ]);
  });

  it('tolerates EPERM from setgroups when no groups are wanted (setgroups=deny)', () => {
    const { libc, calls } = fakeLibc({ setgroups: () => { throw new SysError('setgroups', 1); } });
    setLibc(libc);
    setUser(proc({ user: { uid: 5, gid: 6 } }));
    expect(calls.map((c) => c[0])).toEqual(['prctl', 'setgroups', 'setresgid', 'setresuidThread', 'setresuid', 'prctl']);
  });

  it('fails on a setgroups error when groups were asked for', () => {
    setLibc(fakeLibc({ setgroups: () => { throw new SysError('setgroups', 1); } }).libc);
    expect(() => setUser(proc({ user: { uid: 5, gid: 6, additionalGids: [7] } }))).toThrow('setgroups: operation not permitted');
  });
});

describe('sealedSelf', () => {
  let tmp: string;
  let fd: number;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-seal-'));
    // A real fd stands in for the open_tree one, so that closing it can be observed.
    fd = fs.openSync(path.join(tmp, 'exe'), 'w');
  });

  afterEach(() => {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed by the code under test */
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('clones /proc/self/exe with open_tree and makes the clone read-only', () => {
    const { libc, calls } = fakeLibc({ openTree: () => fd });
    setLibc(libc);
    expect(sealedSelf()).toBe(fd);
    expect(calls).toEqual([
      ['openTree', AT_FDCWD, '/proc/self/exe', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC],
      ['mountSetattr', fd, '', AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0n],
    ]);
    // Still open: the caller owns it.
    expect(fs.fstatSync(fd).isFile()).toBe(true);
  });

  it('closes the clone and rethrows when it cannot be made read-only', () => {
    const err = new SysError('mount_setattr', 38);
    setLibc(fakeLibc({ openTree: () => fd, mountSetattr: () => { throw err; } }).libc);
    expect(() => sealedSelf()).toThrow(err);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('lets an open_tree failure through without calling mount_setattr', () => {
    const { libc, calls } = fakeLibc({ openTree: () => { throw new SysError('open_tree', 38, '/proc/self/exe'); } });
    setLibc(libc);
    expect(() => sealedSelf()).toThrow('open_tree /proc/self/exe: function not implemented');
    expect(calls.map((c) => c[0])).toEqual(['openTree']);
  });
});
