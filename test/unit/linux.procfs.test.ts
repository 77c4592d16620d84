// src/linux/procfs.ts on the real kernel (the suite runs as root), with the koffi seam wrapped to
// record the lookups and to make the private procfs or its fallbacks fail on demand.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { libc, setLibc, type Libc } from '../../src/linux/libc';
import { SysError } from '../../src/linux/errors';
import { procfsClose, procfsHandle, procfsOpen, procfsRead, procfsReopen, procfsWrite } from '../../src/linux/procfs';

// Kernel ABI values, independent of src/linux/constants.ts.
const RESOLVE_NO_XDEV = 0x01;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_BENEATH = 0x08;
const O_NOFOLLOW = 0o400000;
const O_PATH = 0o10000000;
const PROC_SUPER_MAGIC = 0x9fa0;
const TMPFS_MAGIC = 0x01021994;
const EPERM = 1;

type Call = [string, ...unknown[]];

// The real bindings, with some methods replaced; every call is recorded.
function wrapLibc(overrides: Partial<Record<keyof Libc, (...a: never[]) => unknown>> = {}): Call[] {
  setLibc(undefined);
  const real = libc();
  const calls: Call[] = [];
  setLibc(
    new Proxy(real, {
      get(target, name: string) {
        const f = (overrides as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name] ?? (target as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
        return (...args: unknown[]) => {
          calls.push([name, ...args]);
          return f(...args);
        };
      },
    }),
  );
  return calls;
}

afterEach(() => {
  procfsClose();
  setLibc(undefined);
});

describe('procfs handle', () => {
  it('is a private procfs from fsopen, and lookups stay beneath it on one mount without magic links', () => {
    const calls = wrapLibc();
    expect(procfsRead('sys/kernel/cap_last_cap')).toBe(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(calls.map((c) => c[0])).toContain('fsmount');
    expect(calls.some((c) => c[0] === 'openTree')).toBe(false);
    const lookup = calls.find((c) => c[0] === 'openat2' && c[2] === 'sys/kernel/cap_last_cap');
    expect(lookup).toBeDefined();
    const [, dirfd, , flags, , resolve] = lookup as [string, number, string, number, number, number];
    expect(dirfd).toBe(procfsHandle());
    expect(flags & O_NOFOLLOW).toBe(O_NOFOLLOW);
    expect(resolve).toBe(RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
  });

  it('is the root of a procfs: type PROC_SUPER_MAGIC and inode 1', () => {
    wrapLibc();
    const fd = procfsHandle();
    expect(libc().fstatfsType(fd)).toBe(PROC_SUPER_MAGIC);
    expect(fs.fstatSync(fd).ino).toBe(1);
  });

  it('falls back to a clone of /proc, then to /proc itself, when fsopen is refused', () => {
    const refuse = (): never => {
      throw new SysError('fsopen', EPERM, 'proc');
    };
    let calls = wrapLibc({ fsopen: refuse });
    expect(procfsRead('sys/kernel/cap_last_cap')).toBe(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(calls.map((c) => c[0])).toContain('openTree');
    procfsClose();
    calls = wrapLibc({
      fsopen: refuse,
      openTree: () => {
        throw new SysError('open_tree', EPERM, '/proc');
      },
    });
    expect(procfsRead('sys/kernel/cap_last_cap')).toBe(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(calls.filter((c) => c[0] === 'openat2').map((c) => c[5])).toEqual([RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS]);
  });

  it('refuses a handle that is not a procfs, naming every attempt', () => {
    wrapLibc({ fstatfsType: () => TMPFS_MAGIC });
    expect(() => procfsHandle()).toThrow(/no verified procfs handle \(fsopen: not a procfs.*; open_tree: not a procfs.*; open: not a procfs/);
  });

  it('refuses paths that leave /proc', () => {
    wrapLibc();
    for (const p of ['..', '../etc/passwd', 'sys/../../etc/passwd']) expect(() => procfsOpen(p, fs.constants.O_RDONLY)).toThrow(/outside \/proc/);
  });

  it('names /proc/<path> and keeps errno when a lookup fails', () => {
    wrapLibc();
    let err: unknown;
    try {
      procfsWrite('sys/net/nonexistent/key', '1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    expect((err as SysError).code).toBe('ENOENT');
    expect((err as SysError).message).toBe('open /proc/sys/net/nonexistent/key: no such file or directory');
  });

  it('reopens one of our fds through self/fd of the handle', () => {
    wrapLibc();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-procfs-'));
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'content\n');
    const pathFd = fs.openSync(file, O_PATH);
    try {
      const fd = procfsReopen(pathFd, fs.constants.O_RDONLY);
      try {
        expect(fs.readFileSync(fd, 'utf8')).toBe('content\n');
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.closeSync(pathFd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
