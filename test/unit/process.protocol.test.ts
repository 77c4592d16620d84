// Tests for the runtime<->stub<->init wire format (src/process/protocol.ts): netlink-style attributes
// (AttrWriter/parseAttrs) and {u32 type; u32 len} message framing, read back through a temp file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ATTR, AttrWriter, MSG, parseAttrs, parseJSON, readMessage, sendJSON, writeMessage } from '../../src/process/protocol';

describe('AttrWriter', () => {
  it('encodes a u32 attribute as {u16 type; u16 len} + little-endian data', () => {
    const b = new AttrWriter().u32(ATTR.CLONE_FLAGS, 0x20020000).build();
    expect([...b]).toEqual([1, 0, 4, 0, 0x00, 0x00, 0x02, 0x20]);
  });

  it('writes a u32 list back to back and wraps negative numbers to u32', () => {
    const b = new AttrWriter().u32(ATTR.EXE_FD, 3, -1, 0x01020304).build();
    expect(b.toString('hex')).toBe('03000c00' + '03000000' + 'ffffffff' + '04030201');
  });

  it('NUL-terminates each string and pads the attribute to 4 bytes', () => {
    // "ab\0c\0" is 5 bytes: 3 bytes of zero padding follow, and the length field says 5.
    const b = new AttrWriter().strings(ATTR.ARGV, ['ab', 'c']).build();
    expect(b.toString('hex')).toBe('05000500' + '6162006300' + '000000');
    expect(b.length).toBe(12);
  });

  it('adds no padding when the data is already aligned', () => {
    const b = new AttrWriter().add(9, Buffer.from('abcd')).build();
    expect(b.toString('hex')).toBe('09000400' + '61626364');
  });

  it('encodes an empty attribute as a bare header', () => {
    expect(new AttrWriter().add(7, Buffer.alloc(0)).build().toString('hex')).toBe('07000000');
  });

  it('counts string length in UTF-8 bytes', () => {
    const b = new AttrWriter().strings(ATTR.ARGV, ['é']).build();
    expect(b.readUInt16LE(2)).toBe(3);
    expect(b.length).toBe(8);
  });

  it('refuses data that does not fit the u16 length field instead of truncating it', () => {
    expect(() => new AttrWriter().add(1, Buffer.alloc(0x10000))).toThrow(RangeError);
  });
});

describe('parseAttrs', () => {
  it('round-trips a mix of attributes, in order, without the padding', () => {
    const b = new AttrWriter()
      .u32(ATTR.CLONE_FLAGS, 0x7e020000)
      .strings(ATTR.NS_JOIN, ['net:/proc/1/ns/net', 'ipc:/proc/1/ns/ipc'])
      .add(ATTR.TIMENS_OFFSETS, Buffer.from('monotonic 1 0'))
      .u32(ATTR.EXE_FD, 5, 6)
      .build();
    const attrs = parseAttrs(b);
    expect(attrs.map((a) => a.attr)).toEqual([ATTR.CLONE_FLAGS, ATTR.NS_JOIN, ATTR.TIMENS_OFFSETS, ATTR.EXE_FD]);
    expect(attrs[0].data.readUInt32LE(0)).toBe(0x7e020000);
    expect(attrs[1].data.toString()).toBe('net:/proc/1/ns/net\0ipc:/proc/1/ns/ipc\0');
    expect(attrs[2].data.toString()).toBe('monotonic 1 0');
    expect([attrs[3].data.readUInt32LE(0), attrs[3].data.readUInt32LE(4)]).toEqual([5, 6]);
    expect(attrs[3].data.length).toBe(8);
  });

  it('returns nothing for an empty buffer and ignores a trailing partial header', () => {
    expect(parseAttrs(Buffer.alloc(0))).toEqual([]);
    const b = Buffer.concat([new AttrWriter().u32(2, 1).build(), Buffer.from([1, 0])]);
    expect(parseAttrs(b).map((a) => a.attr)).toEqual([2]);
  });
});

describe('message framing', () => {
  let dir: string;
  let file: string;
  let fd: number;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-proto-'));
    file = path.join(dir, 'stream');
    fd = fs.openSync(file, 'w');
  });

  afterEach(() => {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed by the test */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // A fresh read-only fd, positioned at the start like the reading end of a pipe.
  const reader = () => fs.openSync(file, 'r');

  it('frames a message as u32 type, u32 length, payload (little-endian)', () => {
    writeMessage(fd, MSG.PID, 'ab');
    expect(fs.readFileSync(file).toString('hex')).toBe('04000000' + '02000000' + '6162');
  });

  it('sends an empty payload by default', () => {
    writeMessage(fd, MSG.MAPS_DONE);
    expect(fs.readFileSync(file).toString('hex')).toBe('0300000000000000');
  });

  it('reads back a sequence of messages, then null at the clean end', () => {
    const bin = Buffer.from([0, 1, 2, 255]);
    writeMessage(fd, MSG.BOOTSTRAP, bin);
    writeMessage(fd, MSG.MAPS_REQUEST);
    writeMessage(fd, MSG.ERROR, 'déjà vu');
    const r = reader();
    try {
      expect(readMessage(r)).toEqual({ type: MSG.BOOTSTRAP, payload: bin });
      expect(readMessage(r)).toEqual({ type: MSG.MAPS_REQUEST, payload: Buffer.alloc(0) });
      const m = readMessage(r);
      expect(m?.type).toBe(MSG.ERROR);
      expect(m?.payload.toString('utf8')).toBe('déjà vu');
      expect(readMessage(r)).toBeNull();
      // EOF stays EOF.
      expect(readMessage(r)).toBeNull();
    } finally {
      fs.closeSync(r);
    }
  });

  it('returns null for an empty stream', () => {
    const r = reader();
    try {
      expect(readMessage(r)).toBeNull();
    } finally {
      fs.closeSync(r);
    }
  });

  it('carries a payload larger than one read', () => {
    const big = Buffer.alloc(300_000, 'x');
    big.write('end', big.length - 3);
    writeMessage(fd, MSG.INIT, big);
    const r = reader();
    try {
      const m = readMessage(r);
      expect(m?.payload.length).toBe(300_000);
      expect(m?.payload.subarray(-3).toString()).toBe('end');
    } finally {
      fs.closeSync(r);
    }
  });

  it('throws when the stream ends inside the header', () => {
    fs.writeSync(fd, Buffer.from([4, 0, 0]));
    const r = reader();
    try {
      expect(() => readMessage(r)).toThrow('protocol: connection closed in the middle of a message');
    } finally {
      fs.closeSync(r);
    }
  });

  it('throws when the stream ends inside the payload', () => {
    writeMessage(fd, MSG.INIT, 'complete');
    // Then a header (type 16) announcing 10 bytes, followed by only 4 of them.
    fs.writeSync(fd, Buffer.concat([Buffer.from('100000000a000000', 'hex'), Buffer.from('abcd')]));
    const r = reader();
    try {
      expect(readMessage(r)?.payload.toString()).toBe('complete');
      expect(() => readMessage(r)).toThrow('protocol: connection closed in the middle of a message');
    } finally {
      fs.closeSync(r);
    }
  });

  it('round-trips JSON with sendJSON/parseJSON', () => {
    const value = { pid: 1234, hooks: ['a', 'b'], nested: { ok: true } };
    sendJSON(fd, MSG.HOOK, value);
    const r = reader();
    try {
      const m = readMessage(r);
      expect(m?.type).toBe(MSG.HOOK);
      expect(parseJSON<typeof value>(m!)).toEqual(value);
    } finally {
      fs.closeSync(r);
    }
  });
});
