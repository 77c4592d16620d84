// The wire format between the runtime, the C stub and the JS init (documented in docs/ARCHITECTURE.md).
// Owns message framing ({u32 type; u32 len;} + payload) and the stub's bootstrap attributes.
import * as fs from 'node:fs';

// The environment variable naming the stub's (and the init's) end of the socket.
export const SOCK_ENV = '_OCIRUN_SOCK';
// create's init: the stub's memfd, which it exec's in its place for the final stage (src/init/handoff.ts).
export const STUB_FD_ENV = '_OCIRUN_STUB';

export const MSG = {
  BOOTSTRAP: 1,
  MAPS_REQUEST: 2,
  MAPS_DONE: 3,
  PID: 4,
  ERROR: 5,
  // runtime -> stub's child: the final stage of an exec'd process (src/process/plan.ts)
  PLAN: 6,
  // runtime <-> JS init, JSON payloads
  INIT: 16,
  HOOK: 17,
  HOOK_DONE: 18,
  READY: 19,
} as const;

export const ATTR = {
  CLONE_FLAGS: 1,
  NS_JOIN: 2,
  EXE_FD: 3,
  TIMENS_OFFSETS: 4,
  ARGV: 5,
  // Empty: create the namespaces, report the stub's own pid, and wait for EOF instead of exec'ing.
  HOLD: 6,
  // Empty: the child runs the final stage of a PLAN message (exec) instead of exec'ing ocirun init.
  STAGE: 7,
} as const;

// Set on an attribute type: its data continues in the next attribute (data longer than a u16 length).
export const ATTR_MORE = 0x8000;

export interface Message {
  type: number;
  payload: Buffer;
}

function readFull(fd: number, n: number): Buffer | null {
  const buf = Buffer.allocUnsafe(n);
  let off = 0;
  while (off < n) {
    let r: number;
    try {
      r = fs.readSync(fd, buf, off, n - off, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (r === 0) {
      if (off === 0) return null;
      throw new Error('protocol: connection closed in the middle of a message');
    }
    off += r;
  }
  return buf;
}

// Returns null on a clean EOF at a message boundary.
export function readMessage(fd: number): Message | null {
  const hdr = readFull(fd, 8);
  if (!hdr) return null;
  const type = hdr.readUInt32LE(0);
  const len = hdr.readUInt32LE(4);
  const payload = len ? readFull(fd, len) : Buffer.alloc(0);
  if (!payload) throw new Error('protocol: connection closed in the middle of a message');
  return { type, payload };
}

// One message as it goes over the wire: header and payload.
export function encodeMessage(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const hdr = Buffer.allocUnsafe(8);
  hdr.writeUInt32LE(type, 0);
  hdr.writeUInt32LE(body.length, 4);
  return Buffer.concat([hdr, body]);
}

export function writeMessage(fd: number, type: number, payload: Buffer | string = Buffer.alloc(0)): void {
  const all = encodeMessage(type, payload);
  let off = 0;
  while (off < all.length) off += fs.writeSync(fd, all, off, all.length - off);
}

export const sendJSON = (fd: number, type: number, value: unknown): void =>
  writeMessage(fd, type, JSON.stringify(value));

export const parseJSON = <T>(m: Message): T => JSON.parse(m.payload.toString('utf8')) as T;

// Attributes are {u16 attr; u16 len;} + data, padded to 4 bytes, like netlink.
export class AttrWriter {
  private parts: Buffer[] = [];
  add(attr: number, data: Buffer): this {
    const hdr = Buffer.allocUnsafe(4);
    hdr.writeUInt16LE(attr, 0);
    hdr.writeUInt16LE(data.length, 2);
    const pad = (4 - (data.length % 4)) % 4;
    this.parts.push(hdr, data, Buffer.alloc(pad));
    return this;
  }
  // Data of any length, as attributes of at most 0xfffc bytes, each but the last marked ATTR_MORE.
  chunked(attr: number, data: Buffer): this {
    const max = 0xfffc;
    let off = 0;
    for (; data.length - off > max; off += max) this.add(attr | ATTR_MORE, data.subarray(off, off + max));
    return this.add(attr, data.subarray(off));
  }
  // One NUL-terminated string.
  string(attr: number, value: string): this {
    return this.chunked(attr, Buffer.from(value + '\0'));
  }
  u32(attr: number, ...values: number[]): this {
    const b = Buffer.allocUnsafe(4 * values.length);
    values.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
    return this.add(attr, b);
  }
  strings(attr: number, values: string[]): this {
    return this.add(attr, Buffer.from(values.map((v) => v + '\0').join('')));
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// The stub's reading of attributes: ATTR_MORE pieces are joined into one attribute.
export function parseAttrs(buf: Buffer): { attr: number; data: Buffer }[] {
  const out: { attr: number; data: Buffer }[] = [];
  let more = false;
  let off = 0;
  while (off + 4 <= buf.length) {
    const type = buf.readUInt16LE(off);
    const len = buf.readUInt16LE(off + 2);
    const data = buf.subarray(off + 4, off + 4 + len);
    const last = out[out.length - 1];
    if (more && last) last.data = Buffer.concat([last.data, data]);
    else out.push({ attr: type & ~ATTR_MORE, data });
    more = (type & ATTR_MORE) !== 0;
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}
