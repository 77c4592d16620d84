// Tests for `update`'s value parsing (src/cli/update.ts: go-units sizes, strconv integers, with runc's
// error texts) and its resource rules (src/container/update.ts: runc's subset, merge into the stored config).
import { describe, expect, it } from 'vitest';
import { parseGo, ramInBytes } from '../../src/cli/update';
import { mergeResources, updatableResources } from '../../src/container/update';

describe('ramInBytes (go-units)', () => {
  it('reads binary units, case-insensitive, with optional i/b and a space', () => {
    expect(ramInBytes('10')).toBe(10);
    expect(ramInBytes('10k')).toBe(10240);
    expect(ramInBytes('10m')).toBe(10485760);
    expect(ramInBytes('10MB')).toBe(10485760);
    expect(ramInBytes('1 GiB')).toBe(1073741824);
    expect(ramInBytes('1.5k')).toBe(1536);
  });

  it('gives runc\'s errors', () => {
    expect(() => ramInBytes('abc')).toThrow("invalid size: 'abc'");
    expect(() => ramInBytes('10x')).toThrow("invalid size: '10x'");
    expect(() => ramInBytes('1.2.3')).toThrow('strconv.ParseFloat: parsing "1.2.3": invalid syntax');
    expect(() => ramInBytes('-5')).toThrow("invalid size: '-5'");
  });
});

describe('parseGo (strconv base 10, 64 bits)', () => {
  it('parses and range-checks', () => {
    expect(parseGo('100', false)).toBe(100);
    expect(parseGo('-5', true)).toBe(-5);
    expect(() => parseGo('-5', false)).toThrow('strconv.ParseUint: parsing "-5": invalid syntax');
    expect(() => parseGo('99999999999999999999', false)).toThrow('strconv.ParseUint: parsing "99999999999999999999": value out of range');
    expect(() => parseGo('9223372036854775808', true)).toThrow('value out of range');
    expect(() => parseGo('-5x', true)).toThrow('strconv.ParseInt: parsing "-5x": invalid syntax');
  });
});

describe('updatableResources', () => {
  it('keeps only what runc\'s update applies, without zeros', () => {
    expect(
      updatableResources({
        memory: { limit: 100, swap: 0, swappiness: 5, kernel: 7 },
        cpu: { shares: 0, quota: 5000, cpus: '', mems: '0' },
        blockIO: { weight: 0, leafWeight: 5 },
        pids: { limit: 0 },
        hugepageLimits: [{ pageSize: '2MB', limit: 1 }],
        devices: [{ allow: true, access: 'rwm' }],
      }),
    ).toEqual({ memory: { limit: 100 }, cpu: { quota: 5000, mems: '0' } });
  });

  it('passes unified on (the v1 driver refuses it) and a negative pids limit', () => {
    expect(updatableResources({ unified: {}, pids: { limit: -1 } })).toEqual({ pids: { limit: -1 }, unified: {} });
  });
});

describe('mergeResources', () => {
  it('replaces set values and keeps the rest of the stored config', () => {
    expect(
      mergeResources({ memory: { limit: 1, reservation: 2 }, cpu: { shares: 3 }, devices: [{ allow: false, access: 'rwm' }] }, { memory: { limit: 10 }, pids: { limit: 5 } }),
    ).toEqual({ memory: { limit: 10, reservation: 2 }, cpu: { shares: 3 }, devices: [{ allow: false, access: 'rwm' }], pids: { limit: 5 } });
  });
});
