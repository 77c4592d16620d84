// isoTime against Date.prototype.toISOString over the whole range the runtime can meet, leap days included.
import { describe, expect, test } from 'vitest';
import { isoTime } from '../../src/time';

describe('isoTime', () => {
  test('matches toISOString at the epoch, leap days, century rules and year ends', () => {
    const cases = [0, 1, 999, 86399999, 86400000, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 1, 28, 12), Date.UTC(2100, 2, 1),
      Date.UTC(1900, 2, 1), Date.UTC(2026, 10, 29, 8, 20, 4, 7), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59, 1)];
    for (const ms of cases) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  test('matches toISOString on a million pseudo-random instants between 1970 and 2400', () => {
    let x = 12345;
    for (let i = 0; i < 1_000_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const ms = Math.floor((x / 2147483648) * 13569465600000);
      if (isoTime(ms) !== new Date(ms).toISOString()) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  test('defaults to now', () => {
    const before = Date.now();
    const t = Date.parse(isoTime());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
