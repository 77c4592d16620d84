// Pure parts of the linux section: validation of namespaces, devices, netDevices and time offsets,
// vetting namespace paths through a faked NS_GET_NSTYPE ioctl, id maps, and the rtnetlink wire format.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/oci';
import { setLibc, type Libc } from '../../src/linux/libc';
import { SysError } from '../../src/linux/errors';
import { checkJoinedUserMappings, closePlan, parseIdMap, planNamespaces } from '../../src/container/namespaces';
import {
  broadcastOf,
  newAddressRequest,
  nlmsg,
  parseAddress,
  parseAttrs,
  parseMessages,
  rtattr,
  RtNetlink,
} from '../../src/linux/netlink';

type Cfg = any;

// Kernel ABI values, written out independently of src/linux/constants.ts.
const CLONE = { NEWNS: 0x20000, NEWUTS: 0x4000000, NEWNET: 0x40000000, NEWUSER: 0x10000000 };
const NS_GET_NSTYPE = 0xb703;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;

function base(): Cfg {
  return {
    ociVersion: '1.3.0',
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
    hostname: 'box',
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'time' }],
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
        { path: '/dev/fifo', type: 'p' },
      ],
      netDevices: { eth1: { name: 'ctr0' }, eth2: {} },
      timeOffsets: { monotonic: { secs: 5 } },
    },
  };
}

function errorOf(mutate: (c: Cfg) => void): string | undefined {
  const c = base();
  mutate(c);
  try {
    parseConfig(JSON.stringify(c));
  } catch (e) {
    if (e instanceof ConfigError) {
      // Every message starts with the JSON path it is about.
      expect(e.message.startsWith(`${e.path}: `)).toBe(true);
      return e.message;
    }
    throw e;
  }
  return undefined;
}

describe('validation', () => {
  it('accepts the base config', () => {
    expect(errorOf(() => {})).toBeUndefined();
  });

  it.each<[string, (c: Cfg) => void, string]>([
    [
      'duplicate namespace type, in runc words',
      (c) => c.linux.namespaces.push({ type: 'uts', path: '/proc/1/ns/uts' }),
      'linux.namespaces[6].type: malformed spec file: duplicated ns "uts" (also linux.namespaces[3])',
    ],
    [
      'time offsets for a joined time namespace',
      (c) => (c.linux.namespaces[5].path = '/proc/1/ns/time'),
      'linux.timeOffsets: cannot be set for the joined time namespace linux.namespaces[5].path, whose clocks are already set',
    ],
    [
      'time offsets without a time namespace',
      (c) => c.linux.namespaces.pop(),
      'linux.timeOffsets: requires a time namespace (linux.namespaces has no "time" entry)',
    ],
    [
      'domainname without a uts namespace',
      (c) => {
        c.linux.namespaces.splice(3, 1);
        delete c.hostname;
        c.domainname = 'example.org';
      },
      'domainname: requires a uts namespace (linux.namespaces has no "uts" entry)',
    ],
    [
      'mappings without a user namespace',
      (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      'linux.gidMappings: set, but linux.namespaces has no "user" entry',
    ],
    [
      'a new user namespace without mappings',
      (c) => c.linux.namespaces.push({ type: 'user' }),
      'linux.uidMappings: required when a new user namespace is created',
    ],
    ['device major above 12 bits', (c) => (c.linux.devices[0].major = 4096), 'linux.devices[0].major: must be between 0 and 4095 (Linux device numbers)'],
    ['device major negative', (c) => (c.linux.devices[0].major = -1), 'linux.devices[0].major: must be between 0 and 4095 (Linux device numbers)'],
    ['device minor above 20 bits', (c) => (c.linux.devices[0].minor = 1 << 20), 'linux.devices[0].minor: must be between 0 and 1048575 (Linux device numbers)'],
    ['device type unknown', (c) => (c.linux.devices[1].type = 'x'), 'linux.devices[1].type: unknown device type "x"'],
    ['device replacing the root', (c) => (c.linux.devices[0].path = '/dev/..'), 'linux.devices[0].path: must name a file below "/"'],
    [
      'two net devices with one name in the container',
      (c) => (c.linux.netDevices.eth2.name = 'ctr0'),
      'linux.netDevices.eth2: would be named "ctr0" in the container, as would linux.netDevices.eth1',
    ],
    [
      'a rename onto another device that keeps its name',
      (c) => (c.linux.netDevices.eth1.name = 'eth2'),
      'linux.netDevices.eth2: would be named "eth2" in the container, as would linux.netDevices.eth1',
    ],
    ['net device name with a colon', (c) => (c.linux.netDevices.eth1.name = 'eth1:0'), 'linux.netDevices.eth1.name: invalid network interface name "eth1:0"'],
    [
      'net devices without a network namespace',
      (c) => c.linux.namespaces.splice(1, 1),
      'linux.netDevices: requires a network namespace (linux.namespaces has no "network" entry)',
    ],
  ])('%s', (_name, mutate, message) => {
    expect(errorOf(mutate)).toBe(message);
  });

  it('accepts the largest device numbers, any numbers on a fifo, and an empty net device name', () => {
    expect(errorOf((c) => Object.assign(c.linux.devices[0], { major: 4095, minor: 1048575 }))).toBeUndefined();
    expect(errorOf((c) => Object.assign(c.linux.devices[1], { major: 99999 }))).toBeUndefined();
    // Go decodes "" like a missing name: runc keeps the host's name.
    expect(errorOf((c) => (c.linux.netDevices.eth2.name = ''))).toBeUndefined();
  });

  it('accepts a joined time namespace without offsets, and a joined user namespace without mappings', () => {
    expect(
      errorOf((c) => {
        c.linux.namespaces[5].path = '/proc/1/ns/time';
        delete c.linux.timeOffsets;
        c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
      }),
    ).toBeUndefined();
  });
});

describe('planNamespaces', () => {
  let dir: string;
  afterEach(() => {
    setLibc(undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Every opened path answers NS_GET_NSTYPE with types[basename]; an absent name is not an nsfs file.
  function withNsTypes(types: Record<string, number>): { opened: () => number[] } {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-ns-'));
    for (const name of ['uts', 'net', 'plain']) fs.writeFileSync(path.join(dir, name), '');
    const seen: number[] = [];
    setLibc({
      ioctl: (fd: number, req: number) => {
        expect(req).toBe(NS_GET_NSTYPE);
        seen.push(fd);
        const t = types[path.basename(fs.readlinkSync(`/proc/self/fd/${fd}`))];
        if (t === undefined) throw new SysError('ioctl', 25 /* ENOTTY */);
        return t;
      },
    } as unknown as Libc);
    return { opened: () => seen };
  }

  const isOpen = (fd: number) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false;
    }
  };

  it('creates what has no path and joins what has one, after checking its type', () => {
    withNsTypes({ uts: CLONE.NEWUTS });
    const plan = planNamespaces([{ type: 'mount' }, { type: 'uts', path: path.join(dir, 'uts') }]);
    expect(plan.cloneFlags).toBe(CLONE.NEWNS);
    expect(plan.join.map((j) => j.type)).toEqual([CLONE.NEWUTS]);
    closePlan(plan);
  });

  it('names a namespace of another type, and closes every fd it opened', () => {
    const t = withNsTypes({ uts: CLONE.NEWUTS, net: CLONE.NEWNET });
    const net = path.join(dir, 'net');
    expect(() => planNamespaces([{ type: 'uts', path: path.join(dir, 'uts') }, { type: 'uts', path: net }])).toThrow(
      `linux.namespaces[1].path: ${net} is not a uts namespace (it is a net namespace)`,
    );
    expect(t.opened().length).toBe(2);
    expect(t.opened().filter(isOpen)).toEqual([]);
  });

  it('names a file that is no namespace, and a missing path', () => {
    withNsTypes({});
    const plain = path.join(dir, 'plain');
    expect(() => planNamespaces([{ type: 'network', path: plain }])).toThrow(`linux.namespaces[0].path: ${plain} is not a namespace file`);
    const missing = path.join(dir, 'missing');
    expect(() => planNamespaces([{ type: 'ipc' }, { type: 'network', path: missing }])).toThrow(
      `linux.namespaces[1].path: ${missing}: no such file or directory`,
    );
  });
});

describe('id maps of a joined user namespace', () => {
  it('parses /proc/<pid>/uid_map', () => {
    expect(parseIdMap('         0     100000      65536\n      65536          0          1\n')).toEqual([
      { containerID: 0, hostID: 100000, size: 65536 },
      { containerID: 65536, hostID: 0, size: 1 },
    ]);
    expect(parseIdMap('')).toEqual([]);
  });

  // This test process lives in the initial user namespace: its maps are "0 0 4294967295".
  const joined = (uid: object[], gid?: object[]): Cfg => ({
    linux: { namespaces: [{ type: 'user', path: '/proc/self/ns/user' }], uidMappings: uid, gidMappings: gid },
  });

  it('accepts mappings that restate the namespace, in any order of extents', () => {
    expect(() => checkJoinedUserMappings(joined([{ containerID: 0, hostID: 0, size: 4294967295 }]), process.pid)).not.toThrow();
    expect(() => checkJoinedUserMappings(joined([]), process.pid)).not.toThrow();
  });

  it('refuses mappings that differ, naming both', () => {
    expect(() =>
      checkJoinedUserMappings(joined([{ containerID: 0, hostID: 0, size: 4294967295 }], [{ containerID: 0, hostID: 1000, size: 1 }]), process.pid),
    ).toThrow('linux.gidMappings: [0 1000 1] do not match the mappings of the joined user namespace linux.namespaces[0].path (/proc/self/ns/user): [0 0 4294967295]');
  });
});

describe('rtnetlink wire format', () => {
  it('pads attributes to 4 bytes and parses them back', () => {
    const a = rtattr(3, Buffer.from('eth0\0'));
    expect(a.length).toBe(12);
    expect(a.readUInt16LE(0)).toBe(9);
    const attrs = parseAttrs(Buffer.concat([a, rtattr(28, Buffer.from([7, 0, 0, 0]))]));
    expect(attrs.get(3)?.toString()).toBe('eth0\0');
    expect(attrs.get(28)?.readUInt32LE(0)).toBe(7);
  });

  it('splits a datagram into its messages', () => {
    const dgram = Buffer.concat([nlmsg(RTM_NEWLINK, 2, 9, [Buffer.alloc(5)]), nlmsg(NLMSG_DONE, 2, 9, [Buffer.alloc(4)])]);
    const msgs = parseMessages(dgram);
    expect(msgs.map((m) => [m.type, m.seq, m.payload.length])).toEqual([
      [RTM_NEWLINK, 9, 5],
      [NLMSG_DONE, 9, 4],
    ]);
    expect(() => parseMessages(Buffer.from([100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow('malformed');
  });

  it('derives the IPv4 broadcast address as vishvananda/netlink does', () => {
    expect([...broadcastOf(Buffer.from([192, 0, 2, 10]), 24)]).toEqual([192, 0, 2, 255]);
    expect([...broadcastOf(Buffer.from([10, 1, 2, 3]), 8)]).toEqual([10, 255, 255, 255]);
    expect([...broadcastOf(Buffer.from([10, 1, 2, 3]), 32)]).toEqual([10, 1, 2, 3]);
  });

  it('re-creates an address with local, peer and, for a /24, a broadcast', () => {
    const ifaddr = Buffer.from([2, 24, 0x80, 0, 9, 0, 0, 0]);
    const payload = Buffer.concat([ifaddr, rtattr(1, Buffer.from([192, 0, 2, 10])), rtattr(2, Buffer.from([192, 0, 2, 10])), rtattr(8, Buffer.from([0x80, 0, 0, 0]))]);
    const a = parseAddress(payload);
    expect(a).toMatchObject({ family: 2, prefixlen: 24, flags: 0x80, scope: 0, index: 9 });
    const [msg] = parseMessages(newAddressRequest(a, 42, 3));
    expect(msg.type).toBe(RTM_NEWADDR);
    // REQUEST | ACK | EXCL | CREATE
    expect(msg.flags).toBe(0x1 | 0x4 | 0x200 | 0x400);
    expect(msg.payload.readUInt32LE(4)).toBe(42);
    const attrs = parseAttrs(msg.payload.subarray(8));
    expect([...attrs.get(4)!]).toEqual([192, 0, 2, 255]);
    expect([...attrs.get(2)!]).toEqual([192, 0, 2, 10]);
  });

  it('talks request/ack over the socket and turns a kernel error into an errno', () => {
    const sent: Buffer[] = [];
    const replies: Buffer[] = [];
    setLibc({
      socket: () => 99,
      send: (_fd: number, b: Uint8Array) => {
        sent.push(Buffer.from(b));
        const req = parseMessages(Buffer.from(b))[0];
        if (req.type === RTM_GETLINK) {
          const name = parseAttrs(req.payload.subarray(16)).get(3)!.toString().replace(/\0$/, '');
          if (name === 'eth9') {
            const err = Buffer.alloc(4);
            err.writeInt32LE(-19 /* ENODEV */);
            replies.push(nlmsg(NLMSG_ERROR, 0, req.seq, [err, Buffer.alloc(16)]));
          } else {
            const info = Buffer.alloc(16);
            info.writeInt32LE(7, 4);
            replies.push(nlmsg(RTM_NEWLINK, 0, req.seq, [info]));
          }
        } else {
          replies.push(nlmsg(NLMSG_ERROR, 0, req.seq, [Buffer.alloc(4), Buffer.alloc(16)]));
        }
        return b.byteLength;
      },
      recv: (_fd: number, into: Uint8Array) => {
        const r = replies.shift()!;
        Buffer.from(into.buffer, into.byteOffset, into.byteLength).set(r);
        return r.length;
      },
    } as unknown as Libc);
    try {
      const nl = RtNetlink.open();
      expect(nl.linkIndex('eth0')).toBe(7);
      let err: unknown;
      try {
        nl.linkIndex('eth9');
      } catch (e) {
        err = e;
      }
      expect((err as SysError).code).toBe('ENODEV');
      nl.moveLink(7, 'ctr0', 12);
      const move = parseMessages(sent[2])[0];
      expect(move.type).toBe(RTM_NEWLINK);
      const attrs = parseAttrs(move.payload.subarray(16));
      expect(attrs.get(3)!.toString()).toBe('ctr0\0');
      expect(attrs.get(28)!.readUInt32LE(0)).toBe(12);
      expect(move.payload.readInt32LE(4)).toBe(7);
    } finally {
      setLibc(undefined);
    }
  });
});
