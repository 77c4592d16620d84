// Tests for the v1 driver's placement (src/cgroups/v1/index.ts, V1Driver) against a fake cgroupfs: plain directories and files
// in a temp dir standing in for /sys/fs/cgroup, so create/join/pids/freeze/destroy run without root.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { V1Driver } from '../../src/cgroups/v1';

// A real cgroupfs gives every new v1 cpuset directory empty cpuset.cpus/cpuset.mems files; a plain
// filesystem does not. Wrap mkdirSync so that new directories under a cpuset dir get them too, and
// the inheritance code meets the same starting point it meets on a host.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const mkdirSync = ((p: fs.PathLike, opts?: fs.MakeDirectoryOptions) => {
    const first = real.mkdirSync(p, opts);
    if (typeof first === 'string') {
      const leaf = path.resolve(String(p));
      const levels: string[] = [];
      for (let d = leaf; d.length >= first.length; d = path.dirname(d)) levels.unshift(d);
      for (const d of levels) {
        if (!real.existsSync(path.join(path.dirname(d), 'cpuset.cpus'))) continue;
        real.writeFileSync(path.join(d, 'cpuset.cpus'), '\n');
        real.writeFileSync(path.join(d, 'cpuset.mems'), '\n');
      }
    }
    return first;
  }) as typeof real.mkdirSync;
  return { ...real, default: { ...real, mkdirSync }, mkdirSync };
});

let root: string;
const at = (...p: string[]) => path.join(root, ...p);
const read = (...p: string[]) => fs.readFileSync(at(...p), 'utf8');
const write = (p: string, text: string) => {
  fs.mkdirSync(path.dirname(at(p)), { recursive: true });
  fs.writeFileSync(at(p), text);
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-cg-'));
  // Hierarchy roots, as the host would have them.
  for (const h of ['cpuset', 'memory', 'pids', 'freezer', 'unified']) fs.mkdirSync(at(h));
  write('cpuset/cpuset.cpus', '0-7\n');
  write('cpuset/cpuset.mems', '0-1\n');
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('create', () => {
  it('makes every leaf directory, parents included, and reports what it made', () => {
    const m = new V1Driver({ memory: at('memory/a/b'), pids: at('pids/c') });
    expect(m.create()).toEqual([at('memory/a/b'), at('pids/c')]);
    expect(fs.statSync(at('memory/a/b')).isDirectory()).toBe(true);
    expect(fs.statSync(at('pids/c')).isDirectory()).toBe(true);
  });

  it('does not report a directory that already existed, so a failed create leaves it alone', () => {
    fs.mkdirSync(at('memory/existing'));
    const m = new V1Driver({ memory: at('memory/existing'), pids: at('pids/new') });
    expect(m.create()).toEqual([at('pids/new')]);
  });

  it('copies cpuset.cpus and cpuset.mems down into every level it creates', () => {
    const m = new V1Driver({ cpuset: at('cpuset/x/y/z') });
    m.create();
    for (const d of ['x', 'x/y', 'x/y/z']) {
      expect(read('cpuset', d, 'cpuset.cpus')).toBe('0-7');
      expect(read('cpuset', d, 'cpuset.mems')).toBe('0-1');
    }
  });

  it('inherits from the nearest existing parent, not from the hierarchy root', () => {
    fs.mkdirSync(at('cpuset/restricted'));
    write('cpuset/restricted/cpuset.cpus', '2-3\n');
    write('cpuset/restricted/cpuset.mems', '1\n');
    new V1Driver({ cpuset: at('cpuset/restricted/ctr/leaf') }).create();
    expect(read('cpuset/restricted/ctr/leaf/cpuset.cpus')).toBe('2-3');
    expect(read('cpuset/restricted/ctr/leaf/cpuset.mems')).toBe('1');
    // The existing level is untouched.
    expect(read('cpuset/restricted/cpuset.cpus')).toBe('2-3\n');
  });

  it('applies the cpuset inheritance to a hierarchy that co-mounts cpuset with others', () => {
    new V1Driver({ 'cpu,cpuset': at('cpuset/co') }).create();
    expect(read('cpuset/co/cpuset.cpus')).toBe('0-7');
  });

  it('leaves an existing cpuset leaf as it is', () => {
    fs.mkdirSync(at('cpuset/mine'));
    write('cpuset/mine/cpuset.cpus', '5\n');
    write('cpuset/mine/cpuset.mems', '0\n');
    expect(new V1Driver({ cpuset: at('cpuset/mine') }).create()).toEqual([]);
    expect(read('cpuset/mine/cpuset.cpus')).toBe('5\n');
  });

  it('writes no cpuset files into other hierarchies', () => {
    new V1Driver({ memory: at('memory/m') }).create();
    expect(fs.readdirSync(at('memory/m'))).toEqual([]);
  });
});

describe('join and pids', () => {
  it('writes the pid into cgroup.procs of every hierarchy', () => {
    const m = new V1Driver({ memory: at('memory'), pids: at('pids'), '': at('unified') });
    m.join(4242);
    expect([read('memory/cgroup.procs'), read('pids/cgroup.procs'), read('unified/cgroup.procs')]).toEqual(['4242', '4242', '4242']);
  });

  it('names the cgroup it could not join', () => {
    const gone = at('memory/gone');
    expect(() => new V1Driver({ memory: gone }).join(1)).toThrow(`cannot join cgroup ${gone}: ENOENT`);
  });

  it('lists the pids of the pids hierarchy in preference to the others', () => {
    write('memory/cgroup.procs', '1\n');
    write('pids/cgroup.procs', '10\n20\n30\n');
    expect(new V1Driver({ memory: at('memory'), pids: at('pids') }).pids()).toEqual([10, 20, 30]);
  });

  it('falls back to freezer, then to the unified hierarchy', () => {
    write('memory/cgroup.procs', '1\n');
    write('freezer/cgroup.procs', '7\n');
    write('unified/cgroup.procs', '8\n9\n');
    expect(new V1Driver({ memory: at('memory'), freezer: at('freezer'), '': at('unified') }).pids()).toEqual([7]);
    expect(new V1Driver({ memory: at('memory'), '': at('unified') }).pids()).toEqual([8, 9]);
    expect(new V1Driver({ memory: at('memory') }).pids()).toEqual([1]);
  });

  it('returns [] for no cgroups, an empty cgroup, or one that is gone', () => {
    write('pids/cgroup.procs', '');
    expect(new V1Driver({}).pids()).toEqual([]);
    expect(new V1Driver({ pids: at('pids') }).pids()).toEqual([]);
    expect(new V1Driver({ pids: at('pids/gone') }).pids()).toEqual([]);
  });
});

describe('freezing', () => {
  it('reads the v1 freezer state', () => {
    write('freezer/freezer.state', 'FROZEN\n');
    expect(new V1Driver({ freezer: at('freezer') }).isPaused()).toBe(true);
    write('freezer/freezer.state', 'THAWED\n');
    expect(new V1Driver({ freezer: at('freezer') }).isPaused()).toBe(false);
    write('freezer/freezer.state', 'FREEZING\n');
    expect(new V1Driver({ freezer: at('freezer') }).isPaused()).toBe(false);
  });

  it('prefers the v1 freezer on a hybrid host', () => {
    write('freezer/freezer.state', 'THAWED\n');
    write('unified/cgroup.freeze', '1\n');
    expect(new V1Driver({ freezer: at('freezer'), '': at('unified') }).isPaused()).toBe(false);
  });

  it('is not paused when there is no freezer or its file is missing', () => {
    expect(new V1Driver({ memory: at('memory') }).isPaused()).toBe(false);
    expect(new V1Driver({ freezer: at('freezer') }).isPaused()).toBe(false);
  });

  it('writes FROZEN/THAWED to the v1 freezer', () => {
    write('freezer/freezer.state', 'THAWED\n');
    const m = new V1Driver({ freezer: at('freezer') });
    m.freeze(true);
    expect(read('freezer/freezer.state')).toBe('FROZEN');
    expect(m.isPaused()).toBe(true);
    m.freeze(false);
    expect(read('freezer/freezer.state')).toBe('THAWED');
    expect(m.isPaused()).toBe(false);
  });

});

describe('destroy', () => {
  it('removes the empty leaf directories and keeps their parents', () => {
    fs.mkdirSync(at('memory/p/leaf'), { recursive: true });
    fs.mkdirSync(at('pids/leaf'));
    new V1Driver({ memory: at('memory/p/leaf'), pids: at('pids/leaf') }).destroy();
    expect(fs.existsSync(at('memory/p/leaf'))).toBe(false);
    expect(fs.existsSync(at('pids/leaf'))).toBe(false);
    expect(fs.existsSync(at('memory/p'))).toBe(true);
  });

  it('ignores cgroups that are already gone', () => {
    expect(() => new V1Driver({ memory: at('memory/never'), pids: at('pids/never') }).destroy()).not.toThrow();
  });

  it('removes what it can and then reports each directory it could not remove', () => {
    fs.mkdirSync(at('memory/busy'));
    write('memory/busy/file', 'x');
    fs.mkdirSync(at('pids/ok'));
    const m = new V1Driver({ memory: at('memory/busy'), pids: at('pids/ok') });
    expect(() => m.destroy()).toThrow(new RegExp(`^cannot remove cgroups: ${at('memory/busy')}: ENOTEMPTY`));
    expect(fs.existsSync(at('pids/ok'))).toBe(false);
    expect(fs.existsSync(at('memory/busy'))).toBe(true);
  });

  it('undoes create() on a fresh tree', () => {
    const m = new V1Driver({ memory: at('memory/ctr'), pids: at('pids/ctr'), freezer: at('freezer/ctr') });
    m.create();
    m.destroy();
    expect(['memory', 'pids', 'freezer'].map((h) => fs.readdirSync(at(h)))).toEqual([[], [], []]);
  });
});
