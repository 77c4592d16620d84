// Tests for the small argument parsers: parseSignal (src/container/signals.ts), validateId
// (src/container/id.ts) and exitCode (src/process/forward.ts), the wait-status to shell-exit-code mapping.
import { describe, expect, it } from 'vitest';
import { exitCode } from '../../src/process/forward';
import { validateId } from '../../src/container/id';
import { parseSignal } from '../../src/container/signals';

describe('parseSignal', () => {
  it('defaults to SIGTERM (15) when no signal is given', () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal('')).toBe(15);
  });

  it.each([
    ['TERM', 15], ['SIGTERM', 15], ['term', 15], ['sigterm', 15], ['SigTerm', 15],
    ['KILL', 9], ['HUP', 1], ['INT', 2], ['USR1', 10], ['USR2', 12], ['STOP', 19], ['CONT', 18],
    ['CHLD', 17], ['WINCH', 28], ['SYS', 31],
  ])('maps the name %s to %i', (name, n) => {
    expect(parseSignal(name)).toBe(n);
  });

  it.each([['15', 15], ['9', 9], ['1', 1], ['64', 64], ['34', 34], ['015', 15]])('accepts the number %s', (s, n) => {
    expect(parseSignal(s)).toBe(n);
  });

  it.each([
    ['RTMIN', 34], ['SIGRTMIN', 34], ['rtmin+3', 37], ['RTMIN+0', 34], ['SIGRTMIN+30', 64],
    ['RTMAX', 64], ['SIGRTMAX-1', 63], ['rtmax-30', 34],
  ])('maps the real-time signal %s to %i (glibc: SIGRTMIN is 34)', (name, n) => {
    expect(parseSignal(name)).toBe(n);
  });

  it.each(['RTMIN+31', 'RTMAX-31', 'RTMIN-1', 'RTMAX+1'])('rejects %s, outside SIGRTMIN..SIGRTMAX', (name) => {
    expect(() => parseSignal(name)).toThrow(`unknown signal "${name}"`);
  });

  it('rejects unknown names quoting the argument as given', () => {
    expect(() => parseSignal('FOO')).toThrow(/^unknown signal "FOO"$/);
    expect(() => parseSignal('sigfoo')).toThrow(/^unknown signal "sigfoo"$/);
    expect(() => parseSignal('SIGSIGTERM')).toThrow('unknown signal "SIGSIGTERM"');
  });

  it('rejects 0 and numbers above 64', () => {
    expect(() => parseSignal('0')).toThrow(/^unknown signal "0"$/);
    expect(() => parseSignal('65')).toThrow(/^unknown signal "65"$/);
    expect(() => parseSignal('4294967311')).toThrow('unknown signal "4294967311"');
  });

  it('rejects signed or padded numbers', () => {
    expect(() => parseSignal('-9')).toThrow('unknown signal "-9"');
    expect(() => parseSignal(' 9')).toThrow('unknown signal " 9"');
  });
});

describe('validateId', () => {
  it.each(['abc', 'a', 'A-Z_0.9+x', 'a..b', '...', '.hidden', 'x.', '-leading-dash', '0123456789abcdef'.repeat(4)])(
    'accepts %s and returns it',
    (id) => {
      expect(validateId(id)).toBe(id);
    },
  );

  it('rejects an empty or missing id', () => {
    expect(() => validateId('')).toThrow(/^container id cannot be empty$/);
    expect(() => validateId(undefined)).toThrow(/^container id cannot be empty$/);
  });

  it.each(['.', '..', 'a/b', '/abs', '../x', 'sp ace', 'tab\t', 'new\nline', 'colon:x', 'ünï', 'semi;colon', 'a\0b'])(
    'rejects %j',
    (id) => {
      expect(() => validateId(id)).toThrow(`invalid container ID format: ${id}`);
    },
  );

  it('accepts 1024 characters and rejects 1025 as too long', () => {
    expect(validateId('a'.repeat(1024))).toHaveLength(1024);
    expect(() => validateId('a'.repeat(1025))).toThrow(/^invalid container ID format: a{1025}: too long$/);
  });
});

describe('exitCode', () => {
  // Wait status layout: exit status in bits 8..15, terminating signal in bits 0..6, core dump bit 7.
  it.each([
    [0, 0],
    [1 << 8, 1],
    [42 << 8, 42],
    [255 << 8, 255],
  ])('maps the wait status %i (a normal exit) to %i', (status, code) => {
    expect(exitCode(status)).toBe(code);
  });

  it.each([
    [9, 137],
    [15, 143],
    [2, 130],
    [1, 129],
    [64, 192],
  ])('maps death by signal %i to %i', (sig, code) => {
    expect(exitCode(sig)).toBe(code);
  });

  it('ignores the core-dump bit', () => {
    expect(exitCode(0x80 | 11)).toBe(139);
    expect(exitCode(0x80 | 6)).toBe(134);
  });
});
