// Tests through the koffi seam (setLibc in src/linux/libc.ts): a fake Libc records the kernel calls of
// src/process/seal.ts (sealedSelf); and the capability count read from the kernel (lastCap). Capabilities,
// bounding set, rlimits and user are applied by the stub's final stage: test/integration/stage.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lastCap } from '../../src/container/preflight';
import { setLibc } from '../../src/linux/libc';
import { fakeLibc } from './helpers/fakelibc';
import { SysError } from '../../src/linux/errors';
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

// Keep warnings out of the test output.
const log = vi.hoisted(() => ({ warn: vi.fn(), debug: vi.fn(), error: vi.fn(), log: vi.fn() }));
vi.mock('../../src/log', () => log);

// Kernel ABI values, independent of src/linux/constants.ts.
const AT_FDCWD = -100;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000; // = O_CLOEXEC
const AT_EMPTY_PATH = 0x1000;
const MOUNT_ATTR_RDONLY = 1n;

afterEach(() => {
  setLibc(undefined);
  kernel.capLastCap = '40\n';
  vi.clearAllMocks();
});

describe('lastCap', () => {
  it('is the running kernel\'s cap_last_cap', () => {
    kernel.capLastCap = '37\n';
    expect(lastCap()).toBe(37);
  });

  it('assumes CAP_CHECKPOINT_RESTORE (40) is last when cap_last_cap cannot be read', () => {
    kernel.capLastCap = undefined;
    expect(lastCap()).toBe(40);
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
