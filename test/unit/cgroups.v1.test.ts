// Tests for the v1 driver's resource writers (src/cgroups/v1/*) against a fake cgroupfs in a temp dir:
// which file gets which value, in which order, and the errors that name the OCI field.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { V1Driver } from '../../src/cgroups/v1';
import { deviceOptions, Emulator, ruleString, toDeviceRules } from '../../src/cgroups/v1/devices';
import { deviceRules } from '../../src/cgroups/devices';
import type { Spec } from '../../src/oci';

// Every write to a cgroup file, in order, as "<controller>/<file>=<value>".
const writes: string[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const names = new Map<number, string>();
  const openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (real.openSync as (...a: unknown[]) => number)(p, ...rest);
    names.set(fd, String(p));
    return fd;
  }) as typeof real.openSync;
  const writeSync = ((fd: number, data: string, ...rest: unknown[]) => {
    const p = names.get(fd);
    if (p) writes.push(`${path.basename(path.dirname(path.dirname(p)))}/${path.basename(p)}=${data}`);
    return (real.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof real.writeSync;
  const mod = { ...real, openSync, writeSync };
  return { ...mod, default: mod };
});

let root: string;
const at = (...p: string[]) => path.join(root, ...p);
const read = (p: string) => fs.readFileSync(at(p), 'utf8');
const FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': '9223372036854771712',
    'memory.memsw.limit_in_bytes': '9223372036854771712',
    'memory.soft_limit_in_bytes': '9223372036854771712',
    'memory.swappiness': '60',
    'memory.oom_control': 'oom_kill_disable 0',
    'memory.use_hierarchy': '1',
    'memory.usage_in_bytes': '4096',
    'memory.max_usage_in_bytes': '8192',
  },
  cpu: { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0', 'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '0', 'cpu.idle': '0' },
  cpuset: { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' },
  pids: { 'pids.max': 'max' },
  blkio: { 'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_bps_device': '', 'blkio.throttle.read_iops_device': '', 'blkio.throttle.write_iops_device': '', 'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '0' },
  net_cls: { 'net_cls.classid': '0' },
  net_prio: { 'net_prio.ifpriomap': '' },
  rdma: { 'rdma.max': '' },
  devices: { 'devices.list': 'a *:* rwm\n', 'devices.allow': '', 'devices.deny': '' },
  freezer: { 'freezer.state': 'THAWED' },
};

function driver(...controllers: string[]): V1Driver {
  const paths: Record<string, string> = {};
  for (const c of controllers) {
    fs.mkdirSync(at(c, 'ctr'), { recursive: true });
    for (const [f, v] of Object.entries(FILES[c])) fs.writeFileSync(at(c, 'ctr', f), v);
    paths[c] = at(c, 'ctr');
  }
  return new V1Driver(paths);
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-cgv1-'));
  writes.length = 0;
  deviceOptions.finalCheck = false;
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  deviceOptions.finalCheck = true;
});

describe('memory', () => {
  it('writes limit, reservation, oom_control and swappiness, in runc order', () => {
    driver('memory').apply({ memory: { limit: 1 << 26, reservation: 1 << 25, disableOOMKiller: true, swappiness: 0 } });
    expect(writes).toEqual(['memory/memory.limit_in_bytes=67108864', 'memory/memory.soft_limit_in_bytes=33554432', 'memory/memory.oom_control=1', 'memory/memory.swappiness=0']);
  });

  it('raises memsw before the limit when the new memsw is above the current limit', () => {
    const d = driver('memory');
    d.apply({ memory: { limit: 200, swap: 400 } });
    // The current limit (unlimited) is not below 400: lower the limit first, then memsw.
    expect(writes).toEqual(['memory/memory.limit_in_bytes=200', 'memory/memory.memsw.limit_in_bytes=400']);
    writes.length = 0;
    // Now 200 < 600: raise memsw first, or the kernel would see limit 300 > memsw 400.
    d.apply({ memory: { limit: 300, swap: 600 } });
    expect(writes).toEqual(['memory/memory.memsw.limit_in_bytes=600', 'memory/memory.limit_in_bytes=300']);
  });

  it('makes swap unlimited with an unlimited memory and no swap, and writes -1 memsw first', () => {
    driver('memory').apply({ memory: { limit: -1 } });
    expect(writes).toEqual(['memory/memory.memsw.limit_in_bytes=-1', 'memory/memory.limit_in_bytes=-1']);
  });

  it('leaves zero values alone and ignores kernel memory', () => {
    driver('memory').apply({ memory: { limit: 0, swap: 0, reservation: 0, kernel: 1000, kernelTCP: 1000 } });
    expect(writes).toEqual([]);
  });

  it('writes useHierarchy as 1/0', () => {
    driver('memory').apply({ memory: { useHierarchy: true } });
    expect(writes).toEqual(['memory/memory.use_hierarchy=1']);
  });

  it('refuses a swappiness above 100, naming the field', () => {
    expect(() => driver('memory').apply({ memory: { swappiness: 101 } })).toThrow('linux.resources.memory.swappiness: invalid memory swappiness value: 101 (valid range is 0-100)');
  });

  it('names the field and the file when the kernel refuses a write', () => {
    const d = driver('memory');
    fs.rmSync(at('memory/ctr/memory.memsw.limit_in_bytes'));
    expect(() => d.apply({ memory: { swap: 100 } })).toThrow('linux.resources.memory.swap: write memory.memsw.limit_in_bytes: no such file or directory');
  });
});

describe('cpu and cpuset', () => {
  it('writes realtime first, then shares, period, quota, burst, idle', () => {
    driver('cpu').apply({ cpu: { shares: 1024, period: 50000, quota: 25000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 1 } });
    expect(writes).toEqual([
      'cpu/cpu.rt_period_us=1000000',
      'cpu/cpu.rt_runtime_us=950000',
      'cpu/cpu.shares=1024',
      'cpu/cpu.cfs_period_us=50000',
      'cpu/cpu.cfs_quota_us=25000',
      'cpu/cpu.cfs_burst_us=1000',
      'cpu/cpu.idle=1',
    ]);
  });

  it('writes quota -1 (unlimited) and cpus/mems', () => {
    const d = new V1Driver({ ...driver('cpu').paths, ...driver('cpuset').paths });
    d.apply({ cpu: { quota: -1, cpus: '1', mems: '0' } });
    expect(writes).toEqual(['cpuset/cpuset.cpus=1', 'cpuset/cpuset.mems=0', 'cpu/cpu.cfs_quota_us=-1']);
  });

  it('finds a controller in a co-mounted hierarchy', () => {
    fs.mkdirSync(at('cpu,cpuacct/ctr'), { recursive: true });
    fs.writeFileSync(at('cpu,cpuacct/ctr/cpu.shares'), '1024');
    new V1Driver({ 'cpu,cpuacct': at('cpu,cpuacct/ctr') }).apply({ cpu: { shares: 512 } });
    expect(read('cpu,cpuacct/ctr/cpu.shares')).toBe('512');
  });
});

describe('pids, blkio, hugetlb, network, rdma', () => {
  it('writes pids.max, with a negative limit as "max" and 0 as no change', () => {
    driver('pids').apply({ pids: { limit: 0 } });
    expect(writes).toEqual([]);
    driver('pids').apply({ pids: { limit: 10 } });
    driver('pids').apply({ pids: { limit: -1 } });
    expect(writes).toEqual(['pids/pids.max=10', 'pids/pids.max=max']);
  });

  it('uses the bfq weight files when blkio.weight is absent, and one line per device', () => {
    driver('blkio').apply({
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 300 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      },
    });
    expect(writes).toEqual(['blkio/blkio.bfq.weight=500', 'blkio/blkio.bfq.weight_device=8:0 300', 'blkio/blkio.throttle.read_bps_device=8:0 1048576', 'blkio/blkio.throttle.write_iops_device=8:16 100']);
  });

  it('uses blkio.weight when the kernel has it', () => {
    const d = driver('blkio');
    fs.writeFileSync(at('blkio/ctr/blkio.weight'), '500');
    d.apply({ blockIO: { weight: 10 } });
    expect(writes).toEqual(['blkio/blkio.weight=10']);
  });

  it('writes the hugetlb limit, and the rsvd limit only where it exists', () => {
    driver('hugetlb').apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
    expect(writes).toEqual(['hugetlb/hugetlb.2MB.limit_in_bytes=4194304']);
    writes.length = 0;
    fs.writeFileSync(at('hugetlb/ctr/hugetlb.2MB.rsvd.limit_in_bytes'), '0');
    driver('hugetlb').apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    expect(writes).toEqual(['hugetlb/hugetlb.2MB.limit_in_bytes=2097152', 'hugetlb/hugetlb.2MB.rsvd.limit_in_bytes=2097152']);
  });

  it('names the page size entry when its file is missing', () => {
    expect(() => driver('hugetlb').apply({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] })).toThrow('linux.resources.hugepageLimits[0]: write hugetlb.1GB.limit_in_bytes: no such file or directory');
  });

  it('writes the class id and one ifpriomap line per interface', () => {
    new V1Driver({ ...driver('net_cls').paths, ...driver('net_prio').paths }).apply({ network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] } });
    expect(writes).toEqual(['net_cls/net_cls.classid=1048577', 'net_prio/net_prio.ifpriomap=eth0 5', 'net_prio/net_prio.ifpriomap=lo 1']);
  });

  it('writes rdma.max lines with only the limits given', () => {
    driver('rdma').apply({ rdma: { mlx5_1: { hcaHandles: 3 }, mlx4_0: { hcaHandles: 2, hcaObjects: 2000 } } });
    expect(writes).toEqual(['rdma/rdma.max=mlx4_0 hca_handle=2 hca_object=2000', 'rdma/rdma.max=mlx5_1 hca_handle=3']);
  });
});

describe('unmounted controllers and unified', () => {
  it('skips a controller that is not mounted when nothing asks for it', () => {
    expect(() => driver('memory').apply({ memory: { limit: 100 }, cpu: { shares: 0 }, pids: { limit: 0 } })).not.toThrow();
  });

  it('refuses a limit for a controller that is not mounted, naming the field', () => {
    expect(() => driver('memory').apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] })).toThrow('linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted on this host');
    expect(() => driver('memory').apply({ network: { classID: 1 } })).toThrow('linux.resources.network.classID: the net_cls cgroup controller is not mounted');
    expect(() => driver('memory').apply({ cpu: { cpus: '0' } })).toThrow('linux.resources.cpu.cpus: the cpuset cgroup controller is not mounted');
  });

  it('refuses unified, as runc does on v1', () => {
    expect(() => driver('memory').apply({ unified: {} })).toThrow('invalid configuration: cannot use unified on cgroup v1');
  });
});

describe('devices', () => {
  const spec = (extra: Partial<Spec['linux']> = {}): Spec => ({ ociVersion: '1.0.2', linux: { resources: { devices: [{ allow: false, access: 'rwm' }] }, ...extra } }) as Spec;

  it('resets an allow-all cgroup with "a *:* rwm" and allows runc\'s defaults, in sorted order', () => {
    driver('devices').apply({ devices: deviceRules(spec()) });
    expect(writes).toEqual([
      'devices/devices.deny=a *:* rwm',
      'devices/devices.allow=b *:* m',
      'devices/devices.allow=c *:* m',
      'devices/devices.allow=c 1:3 rwm',
      'devices/devices.allow=c 1:5 rwm',
      'devices/devices.allow=c 1:7 rwm',
      'devices/devices.allow=c 1:8 rwm',
      'devices/devices.allow=c 1:9 rwm',
      'devices/devices.allow=c 5:0 rwm',
      'devices/devices.allow=c 5:2 rwm',
      'devices/devices.allow=c 10:200 rwm',
      'devices/devices.allow=c 136:* rwm',
    ]);
  });

  it('drops the default of a device that linux.devices lists, as runc does', () => {
    const rules = deviceRules(spec({ devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }] }));
    expect(rules.some((r) => r.major === 1 && r.minor === 3)).toBe(false);
  });

  it('writes only the difference from a deny-by-default list', () => {
    const current = Emulator.fromList('c 1:3 rwm\nc 1:5 rwm\n');
    const target = Emulator.fromRules(toDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }]));
    expect(current.transition(target).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleString(r)}`)).toEqual(['deny c 1:3 m', 'deny c 1:5 rwm', 'allow b 8:0 r']);
  });

  it('folds later rules into earlier ones like the kernel (deny removes permissions)', () => {
    const e = Emulator.fromRules(toDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'rwm' }, { allow: false, type: 'c', major: 4, minor: 1, access: 'w' }]));
    expect(e.ordered().map((r) => ruleString({ ...r, allow: true }))).toEqual(['c 4:1 rm']);
  });

  it('refuses to punch a hole in a wildcard allow, as runc does', () => {
    expect(() => Emulator.fromRules(toDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'r' }]))).toThrow(
      'cannot punch hole in existing wildcard rule',
    );
  });

  it('refuses an empty access, naming the entry', () => {
    expect(() => toDeviceRules([{ allow: true, access: '' }])).toThrow('linux.resources.devices[0].access');
  });

  it('leaves the rules alone when resources carry no devices (update)', () => {
    driver('devices').apply({});
    expect(writes).toEqual([]);
  });
});

describe('kill and freeze', () => {
  it('freezes, signals every pid of the cgroup and its children, then thaws', () => {
    const d = driver('freezer');
    fs.writeFileSync(at('freezer/ctr/cgroup.procs'), '');
    fs.mkdirSync(at('freezer/ctr/sub'));
    fs.writeFileSync(at('freezer/ctr/sub/cgroup.procs'), '');
    // The fake freezer "settles" immediately: FROZEN is read back as written.
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    fs.writeFileSync(at('freezer/ctr/cgroup.procs'), '111\n');
    fs.writeFileSync(at('freezer/ctr/sub/cgroup.procs'), '222\n');
    d.kill(15);
    expect(kill.mock.calls).toEqual([[111, 15], [222, 15]]);
    expect(writes).toEqual(['freezer/freezer.state=FROZEN', 'freezer/freezer.state=THAWED']);
    kill.mockRestore();
  });
});
