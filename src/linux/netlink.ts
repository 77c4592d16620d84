// rtnetlink (NETLINK_ROUTE) for moving network links between namespaces: message encoding and parsing,
// and a small synchronous socket. Owns the wire format (nlmsghdr, ifinfomsg, ifaddrmsg, rtattr).
import * as fs from 'node:fs';
import { libc } from './libc';
import { SysError } from './errors';
import { AF_NETLINK, NETLINK_ROUTE, SOCK_CLOEXEC, SOCK_RAW } from './constants';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP = 0x300;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const IFLA_IFNAME = 3;
export const IFLA_NET_NS_FD = 28;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
export const IFA_F_PERMANENT = 0x80;
export const RT_SCOPE_UNIVERSE = 0;

export const IFF_UP = 0x1;
export const AF_UNSPEC = 0;
export const AF_INET = 2;

const NLMSG_HDRLEN = 16;
const align4 = (n: number) => (n + 3) & ~3;

export function rtattr(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + data.length));
  out.writeUInt16LE(4 + data.length, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

export const u32Attr = (type: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return rtattr(type, b);
};

// Interface names travel NUL-terminated (the kernel copies at most IFNAMSIZ bytes).
export const stringAttr = (type: number, s: string) => rtattr(type, Buffer.concat([Buffer.from(s), Buffer.alloc(1)]));

export function ifinfomsg(o: { index: number; flags?: number; change?: number }): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(o.index, 4);
  b.writeUInt32LE((o.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((o.change ?? 0) >>> 0, 12);
  return b;
}

export function ifaddrmsg(o: { family: number; prefixlen: number; flags?: number; scope?: number; index: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.prefixlen, 1);
  b.writeUInt8((o.flags ?? 0) & 0xff, 2);
  b.writeUInt8(o.scope ?? 0, 3);
  b.writeUInt32LE(o.index >>> 0, 4);
  return b;
}

export function nlmsg(type: number, flags: number, seq: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq >>> 0, 8);
  // nlmsg_len counts the real bytes; the next message in a datagram starts 4-aligned.
  return Buffer.concat([hdr, body, Buffer.alloc(align4(body.length) - body.length)]);
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

// One datagram may carry several messages (a dump); each is padded to 4 bytes.
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new Error(`netlink: malformed message of length ${len}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    // The top bits are NLA_F_NESTED / NLA_F_NET_BYTEORDER, not part of the type.
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

export interface LinkAddress {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
  local?: Buffer;
  address?: Buffer;
  broadcast?: Buffer;
}

export function parseAddress(payload: Buffer): LinkAddress {
  const attrs = parseAttrs(payload.subarray(8));
  const wide = attrs.get(IFA_FLAGS);
  return {
    family: payload.readUInt8(0),
    prefixlen: payload.readUInt8(1),
    // IFA_FLAGS carries the 32-bit flags when the 8-bit field is too small.
    flags: wide && wide.length >= 4 ? wide.readUInt32LE(0) : payload.readUInt8(2),
    scope: payload.readUInt8(3),
    index: payload.readUInt32LE(4),
    local: attrs.get(IFA_LOCAL),
    address: attrs.get(IFA_ADDRESS),
    broadcast: attrs.get(IFA_BROADCAST),
  };
}

/**
 * The RTM_NEWADDR that re-creates `a` on link `index`, as runc 1.3 does through vishvananda/netlink:
 * local and peer address, and for IPv4 a broadcast address derived from the prefix when the subnet
 * is large enough to have one (RFC 3021).
 */
export function newAddressRequest(a: LinkAddress, index: number, seq: number): Buffer {
  const local = a.local ?? a.address;
  if (!local) throw new Error('netlink: address without IFA_LOCAL or IFA_ADDRESS');
  const parts = [ifaddrmsg({ family: a.family, prefixlen: a.prefixlen, index }), rtattr(IFA_LOCAL, local), rtattr(IFA_ADDRESS, a.address ?? local)];
  if (a.family === AF_INET && a.prefixlen < 31) parts.push(rtattr(IFA_BROADCAST, broadcastOf(local, a.prefixlen)));
  return nlmsg(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, parts);
}

export function broadcastOf(ip4: Buffer, prefixlen: number): Buffer {
  const host = prefixlen >= 32 ? 0 : 0xffffffff >>> prefixlen;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((ip4.readUInt32BE(0) | host) >>> 0);
  return b;
}

export function formatAddress(a: LinkAddress): string {
  const ip = a.local ?? a.address;
  if (!ip) return '?';
  const text =
    ip.length === 4
      ? [...ip].join('.')
      : Array.from({ length: 8 }, (_, i) => ip.readUInt16BE(i * 2).toString(16)).join(':');
  return `${text}/${a.prefixlen}`;
}

/** A NETLINK_ROUTE socket in the network namespace of the thread that opened it. */
export class RtNetlink {
  private seq = 0;
  private readonly buf = Buffer.alloc(64 * 1024);

  private constructor(private readonly fd: number) {}

  static open(): RtNetlink {
    return new RtNetlink(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** The ifindex of the link called `name`; SysError ENODEV when there is none. */
  linkIndex(name: string): number {
    const [reply] = this.exchange(
      (seq) => nlmsg(RTM_GETLINK, NLM_F_REQUEST, seq, [ifinfomsg({ index: 0 }), stringAttr(IFLA_IFNAME, name)]),
      `RTM_GETLINK ${name}`,
    );
    return reply.readInt32LE(4);
  }

  setLinkUp(index: number, up: boolean): void {
    this.exchange(
      (seq) => nlmsg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, [ifinfomsg({ index, flags: up ? IFF_UP : 0, change: IFF_UP })]),
      `RTM_NEWLINK ${up ? 'up' : 'down'}`,
    );
  }

  /** Moves and renames in one request, so that the name never clashes in either namespace. */
  moveLink(index: number, name: string, netnsFd: number): void {
    this.exchange(
      (seq) =>
        nlmsg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, [
          ifinfomsg({ index }),
          stringAttr(IFLA_IFNAME, name),
          u32Attr(IFLA_NET_NS_FD, netnsFd),
        ]),
      `RTM_NEWLINK move ${name}`,
    );
  }

  addresses(index: number): LinkAddress[] {
    const all = this.exchange(
      (seq) => nlmsg(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, [ifaddrmsg({ family: AF_UNSPEC, prefixlen: 0, index: 0 })]),
      'RTM_GETADDR',
    );
    return all.map(parseAddress).filter((a) => a.index === index);
  }

  addAddress(index: number, a: LinkAddress): void {
    this.exchange((seq) => newAddressRequest(a, index, seq), `RTM_NEWADDR ${formatAddress(a)}`);
  }

  // Sends one request and collects the payloads of its replies: up to the ack for plain requests,
  // up to NLMSG_DONE for dumps. A negative error in NLMSG_ERROR becomes a SysError.
  private exchange(build: (seq: number) => Buffer, what: string): Buffer[] {
    const seq = ++this.seq;
    const req = build(seq);
    const flags = req.readUInt16LE(6);
    const l = libc();
    l.send(this.fd, req);
    const replies: Buffer[] = [];
    for (;;) {
      const n = l.recv(this.fd, this.buf);
      for (const m of parseMessages(Buffer.from(this.buf.subarray(0, n)))) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_ERROR) {
          const err = m.payload.readInt32LE(0);
          if (err !== 0) throw new SysError(what, -err);
          return replies;
        }
        if (m.type === NLMSG_DONE) {
          const err = m.payload.length >= 4 ? m.payload.readInt32LE(0) : 0;
          if (err < 0) throw new SysError(what, -err);
          return replies;
        }
        replies.push(m.payload);
        // A plain GET without ACK ends with its one reply.
        if (!(flags & NLM_F_ACK) && !(m.flags & NLM_F_MULTI)) return replies;
      }
    }
  }
}
