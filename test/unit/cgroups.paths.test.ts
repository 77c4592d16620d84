// Tests for cgroup discovery and path resolution: parseMountinfo/parseProcCgroup (src/cgroups/hierarchy.ts)
// on hybrid, co-mounted and pure v2 hosts, resolvePaths as runc's cgroupfs driver, and the systemd form (src/cgroups/paths.ts).
import { describe, expect, it } from 'vitest';
import { hierarchyKey, parseMountinfo, parseProcCgroup } from '../../src/cgroups/hierarchy';
import { resolvePaths } from '../../src/cgroups/paths';
import { expandSlice, parseSystemdPath, systemdCgroupPath, unitName } from '../../src/cgroups/paths';
import { cgroupfsPath } from '../../src/cgroups';
import type { Spec } from '../../src/oci';

// A systemd hybrid host (Ubuntu 20.04 style, controllers mounted one per hierarchy), with the usual
// non-cgroup noise around the cgroup lines.
const HYBRID_MOUNTINFO = `\
22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:31 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu
37 31 0:32 / /sys/fs/cgroup/cpuacct rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuacct
38 31 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset,clone_children
39 31 0:34 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,memory
40 31 0:35 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,devices
41 31 0:36 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,freezer
42 31 0:37 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,blkio
43 31 0:38 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,pids
60 28 0:50 / /run/user/1000 rw,nosuid,nodev,relatime shared:300 - tmpfs tmpfs rw,size=812312k,mode=700,uid=1000,gid=1000
`;

const HYBRID_PROC_CGROUP = `\
12:pids:/user.slice/user-1000.slice/session-2.scope
11:blkio:/user.slice
10:freezer:/
9:devices:/user.slice
8:memory:/user.slice/user-1000.slice/session-2.scope
7:cpuset:/
6:cpuacct:/user.slice
5:cpu:/user.slice
2:name=systemd:/user.slice/user-1000.slice/session-2.scope
0::/user.slice/user-1000.slice/session-2.scope
`;

// CentOS 7 / Debian style: cpu,cpuacct and net_cls,net_prio co-mounted, with extra super options.
const COMOUNT_MOUNTINFO = `\
25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
30 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_cls,net_prio
31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
`;

const V2_MOUNTINFO = `\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('parseMountinfo', () => {
  it('finds every hierarchy of a hybrid host, in mountinfo order, and nothing else', () => {
    const hs = parseMountinfo(HYBRID_MOUNTINFO);
    expect(hs.map((h) => [hierarchyKey(h), h.mountpoint])).toEqual([
      ['', '/sys/fs/cgroup/unified'],
      ['name=systemd', '/sys/fs/cgroup/systemd'],
      ['cpu', '/sys/fs/cgroup/cpu'],
      ['cpuacct', '/sys/fs/cgroup/cpuacct'],
      ['cpuset', '/sys/fs/cgroup/cpuset'],
      ['memory', '/sys/fs/cgroup/memory'],
      ['devices', '/sys/fs/cgroup/devices'],
      ['freezer', '/sys/fs/cgroup/freezer'],
      ['blkio', '/sys/fs/cgroup/blkio'],
      ['pids', '/sys/fs/cgroup/pids'],
    ]);
  });

  it('describes the cgroup2 mount as unified with no controllers', () => {
    expect(parseMountinfo(HYBRID_MOUNTINFO)[0]).toEqual({ controllers: [], unified: true, mountpoint: '/sys/fs/cgroup/unified', root: '/' });
  });

  it('drops the non-controller super options (rw, xattr, clone_children, release_agent)', () => {
    const hs = parseMountinfo(HYBRID_MOUNTINFO + COMOUNT_MOUNTINFO);
    expect(hs.find((h) => h.mountpoint === '/sys/fs/cgroup/cpuset')?.controllers).toEqual(['cpuset']);
    expect(parseMountinfo(COMOUNT_MOUNTINFO)[0].controllers).toEqual(['name=systemd']);
  });

  it('keeps co-mounted controllers together as one hierarchy', () => {
    const hs = parseMountinfo(COMOUNT_MOUNTINFO);
    expect(hs.map(hierarchyKey)).toEqual(['name=systemd', 'cpu,cpuacct', 'net_cls,net_prio', 'memory']);
    expect(hs[1]).toEqual({ controllers: ['cpu', 'cpuacct'], unified: false, mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' });
  });

  it('finds the single cgroup2 tree of a pure v2 host', () => {
    expect(parseMountinfo(V2_MOUNTINFO)).toEqual([{ controllers: [], unified: true, mountpoint: '/sys/fs/cgroup', root: '/' }]);
  });

  it('reads the mount root, which is not "/" inside a container or for a bind mount', () => {
    const text = '1450 1449 0:34 /docker/0123abcd /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:19 - cgroup cgroup rw,memory\n';
    expect(parseMountinfo(text)).toEqual([{ controllers: ['memory'], unified: false, mountpoint: '/sys/fs/cgroup/memory', root: '/docker/0123abcd' }]);
  });

  it('unescapes octal escapes in the mountpoint and root', () => {
    const text = '50 31 0:40 /a\\040b /mnt/my\\040cgroups\\011x rw - cgroup2 cgroup2 rw\n';
    const [h] = parseMountinfo(text);
    expect(h.mountpoint).toBe('/mnt/my cgroups\tx');
    expect(h.root).toBe('/a b');
  });

  it('keeps only the first mount of a hierarchy mounted twice', () => {
    const text = `${HYBRID_MOUNTINFO}90 28 0:34 / /var/lib/ctr/memory rw - cgroup cgroup rw,memory\n91 28 0:27 / /var/lib/ctr/unified rw - cgroup2 cgroup2 rw\n`;
    const hs = parseMountinfo(text);
    expect(hs.filter((h) => hierarchyKey(h) === 'memory').map((h) => h.mountpoint)).toEqual(['/sys/fs/cgroup/memory']);
    expect(hs.filter((h) => h.unified).map((h) => h.mountpoint)).toEqual(['/sys/fs/cgroup/unified']);
  });

  it('returns nothing for a host without cgroup mounts or for garbage', () => {
    expect(parseMountinfo('28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\nnot a mountinfo line\n\n')).toEqual([]);
  });
});

describe('parseProcCgroup', () => {
  it('maps each hierarchy key to the process\'s path', () => {
    const m = parseProcCgroup(HYBRID_PROC_CGROUP);
    expect(m.get('memory')).toBe('/user.slice/user-1000.slice/session-2.scope');
    expect(m.get('cpu')).toBe('/user.slice');
    expect(m.get('freezer')).toBe('/');
    expect(m.get('name=systemd')).toBe('/user.slice/user-1000.slice/session-2.scope');
    expect(m.get('')).toBe('/user.slice/user-1000.slice/session-2.scope');
    expect(m.size).toBe(10);
  });

  it('keys co-mounted controllers as the kernel prints them', () => {
    const m = parseProcCgroup('4:cpu,cpuacct:/system.slice/foo.service\n3:net_cls,net_prio:/\n');
    expect([...m.entries()]).toEqual([['cpu,cpuacct', '/system.slice/foo.service'], ['net_cls,net_prio', '/']]);
  });

  it('keeps colons that are part of the path and skips malformed lines', () => {
    const m = parseProcCgroup('0::/a:b:c\ngarbage\n1:only-one-colon\n');
    expect([...m.entries()]).toEqual([['', '/a:b:c']]);
  });
});

describe('resolvePaths', () => {
  const hybrid = parseMountinfo(HYBRID_MOUNTINFO);
  const own = parseProcCgroup(HYBRID_PROC_CGROUP);

  it('puts a container without cgroupsPath under the runtime\'s own cgroup, named by its id', () => {
    const p = resolvePaths(undefined, 'c1', hybrid, own);
    expect(p).toEqual({
      '': '/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope/c1',
      'name=systemd': '/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-2.scope/c1',
      cpu: '/sys/fs/cgroup/cpu/user.slice/c1',
      cpuacct: '/sys/fs/cgroup/cpuacct/user.slice/c1',
      cpuset: '/sys/fs/cgroup/cpuset/c1',
      memory: '/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/c1',
      devices: '/sys/fs/cgroup/devices/user.slice/c1',
      freezer: '/sys/fs/cgroup/freezer/c1',
      blkio: '/sys/fs/cgroup/blkio/user.slice/c1',
      pids: '/sys/fs/cgroup/pids/user.slice/user-1000.slice/session-2.scope/c1',
    });
  });

  it('treats an empty cgroupsPath like an absent one', () => {
    expect(resolvePaths('', 'c2', hybrid, own).memory).toBe('/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/c2');
  });

  it('appends a relative cgroupsPath to the own cgroup of each hierarchy', () => {
    const p = resolvePaths('ctrs/web', 'ignored', hybrid, own);
    expect(p.cpu).toBe('/sys/fs/cgroup/cpu/user.slice/ctrs/web');
    expect(p.cpuset).toBe('/sys/fs/cgroup/cpuset/ctrs/web');
    expect(p['']).toBe('/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope/ctrs/web');
  });

  it('takes an absolute cgroupsPath from each hierarchy\'s root', () => {
    const p = resolvePaths('/machine/c3', 'ignored', hybrid, own);
    expect(Object.values(p)).toHaveLength(10);
    for (const h of hybrid) expect(p[hierarchyKey(h)]).toBe(`${h.mountpoint}/machine/c3`);
  });

  it('normalises the path (double slashes, ".", trailing slash)', () => {
    expect(resolvePaths('//machine/./c4/', 'x', hybrid, own).memory).toBe('/sys/fs/cgroup/memory/machine/c4');
    expect(resolvePaths('a//./b', 'x', hybrid, own).cpuset).toBe('/sys/fs/cgroup/cpuset/a/b');
  });

  it('rejects a relative path that climbs out with ".."', () => {
    expect(() => resolvePaths('../escape', 'x', hybrid, own)).toThrow('linux.cgroupsPath: must not contain "..": ../escape');
    expect(() => resolvePaths('a/../../escape', 'x', hybrid, own)).toThrow('must not contain ".."');
  });

  it('resolves ".." that stays inside the path, and clamps it at "/" for absolute paths', () => {
    expect(resolvePaths('a/../b', 'x', hybrid, own).cpuset).toBe('/sys/fs/cgroup/cpuset/b');
    expect(resolvePaths('/../../b', 'x', hybrid, own).cpuset).toBe('/sys/fs/cgroup/cpuset/b');
  });

  it('falls back to the hierarchy root when the process has no line for a hierarchy', () => {
    const p = resolvePaths(undefined, 'c5', hybrid, new Map([['memory', '/m']]));
    expect(p.memory).toBe('/sys/fs/cgroup/memory/m/c5');
    expect(p.pids).toBe('/sys/fs/cgroup/pids/c5');
  });

  it('uses the co-mounted key on a cpu,cpuacct host', () => {
    const hs = parseMountinfo(COMOUNT_MOUNTINFO);
    const me = parseProcCgroup('5:memory:/system.slice\n4:cpu,cpuacct:/system.slice/x.service\n3:net_cls,net_prio:/\n1:name=systemd:/system.slice/x.service\n');
    expect(resolvePaths(undefined, 'id', hs, me)).toEqual({
      'name=systemd': '/sys/fs/cgroup/systemd/system.slice/x.service/id',
      'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/system.slice/x.service/id',
      'net_cls,net_prio': '/sys/fs/cgroup/net_cls,net_prio/id',
      memory: '/sys/fs/cgroup/memory/system.slice/id',
    });
  });

  it('gives one path on a pure v2 host', () => {
    const hs = parseMountinfo(V2_MOUNTINFO);
    expect(resolvePaths(undefined, 'id', hs, parseProcCgroup('0::/user.slice/u.scope\n'))).toEqual({ '': '/sys/fs/cgroup/user.slice/u.scope/id' });
    expect(resolvePaths('/k8s/pod1/ctr', 'id', hs, parseProcCgroup('0::/user.slice/u.scope\n'))).toEqual({ '': '/sys/fs/cgroup/k8s/pod1/ctr' });
  });

  describe('with a mount whose root is not "/" (a container without a cgroup namespace)', () => {
    // The host's /docker/abc is mounted at /sys/fs/cgroup/memory; /proc/self/cgroup still shows host paths.
    const hs = parseMountinfo(
      '100 99 0:34 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n101 99 0:30 /docker/abc /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
    );
    const me = parseProcCgroup('8:memory:/docker/abc\n0::/docker/abc/init\n');

    it('maps the own cgroup through the mount root', () => {
      expect(resolvePaths(undefined, 'inner', hs, me)).toEqual({
        memory: '/sys/fs/cgroup/memory/inner',
        '': '/sys/fs/cgroup/unified/init/inner',
      });
    });

    it('maps an absolute path below the mount root', () => {
      expect(resolvePaths('/docker/abc/nested', 'x', hs, me).memory).toBe('/sys/fs/cgroup/memory/nested');
    });

    it('maps the mount root itself to the mountpoint', () => {
      expect(resolvePaths('/docker/abc', 'x', hs, me).memory).toBe('/sys/fs/cgroup/memory');
    });

    it('rejects an absolute path outside the mounted part of the hierarchy', () => {
      expect(() => resolvePaths('/other/ctr', 'x', hs, me)).toThrow('cgroup path /other/ctr is outside the mounted hierarchy /sys/fs/cgroup/memory');
      // A sibling whose name merely starts with the root's name is outside too.
      expect(() => resolvePaths('/docker/abcdef', 'x', hs, me)).toThrow('is outside the mounted hierarchy');
    });
  });

  // Regression (was a bug): the "outside the mount" check is rel.startsWith('..'), so a legal cgroup whose name starts
  // with two dots ("..data") is reported as outside its hierarchy; it should test rel === '..' ||
  // rel.startsWith('../').
  it('accepts a cgroup directory whose name merely starts with ".."', () => {
    expect(resolvePaths('/..data/c', 'x', hybrid, own).memory).toBe('/sys/fs/cgroup/memory/..data/c');
  });
});

describe('systemd cgroupsPath (slice:prefix:name), mapped to cgroupfs', () => {
  it('expands nested slices as systemd does', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
  });

  it('refuses malformed slice names with runc\'s message', () => {
    for (const bad of ['.slice', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice', 'system', 'slice']) {
      expect(() => expandSlice(bad)).toThrow(`invalid slice name: ${bad}`);
    }
  });

  it('needs exactly three colon-separated parts', () => {
    expect(() => parseSystemdPath('system.slice:docker', 'id', 'ocirun')).toThrow(
      'expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "system.slice:docker" instead',
    );
    expect(() => parseSystemdPath('/a/b', 'id', 'ocirun')).toThrow('expected cgroupsPath to be of format');
    expect(() => parseSystemdPath('bad:p:n', 'id', 'ocirun')).toThrow('invalid slice name: bad');
  });

  it('gives the path systemd would give the unit: scope under the expanded slice', () => {
    expect(systemdCgroupPath(parseSystemdPath('system.slice:docker:abc', 'id', 'ocirun'))).toBe('/system.slice/docker-abc.scope');
    expect(systemdCgroupPath(parseSystemdPath('kubepods-besteffort.slice:cri-containerd:123', 'id', 'ocirun'))).toBe('/kubepods.slice/kubepods-besteffort.slice/cri-containerd-123.scope');
    expect(systemdCgroupPath(parseSystemdPath('-.slice:p:n', 'id', 'ocirun'))).toBe('/p-n.scope');
  });

  it('uses system.slice and the default prefix for an empty path, and keeps a slice name as is', () => {
    expect(systemdCgroupPath(parseSystemdPath(undefined, 'c1', 'ocirun'))).toBe('/system.slice/ocirun-c1.scope');
    expect(systemdCgroupPath(parseSystemdPath(':p:n', 'id', 'ocirun'))).toBe('/system.slice/p-n.scope');
    expect(systemdCgroupPath(parseSystemdPath('a.slice::a-b.slice', 'id', 'ocirun'))).toBe('/a.slice/a-b.slice');
    expect(unitName({ slice: '', prefix: '', name: 'x' })).toBe('x.scope');
  });

  it('resolves the mapped path from every hierarchy\'s root', () => {
    const hybrid = parseMountinfo(HYBRID_MOUNTINFO);
    const spec = { ociVersion: '1.0.2', linux: { cgroupsPath: 'machine.slice:libpod:xyz' } } as Spec;
    const p = resolvePaths(cgroupfsPath(spec, 'id', true), 'id', hybrid, parseProcCgroup(HYBRID_PROC_CGROUP));
    expect(p.memory).toBe('/sys/fs/cgroup/memory/machine.slice/libpod-xyz.scope');
    expect(p['']).toBe('/sys/fs/cgroup/unified/machine.slice/libpod-xyz.scope');
    // Without --systemd-cgroup the same string is a relative cgroupfs path, as in runc.
    expect(cgroupfsPath(spec, 'id', false)).toBe('machine.slice:libpod:xyz');
  });
});
