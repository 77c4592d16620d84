// Tests for parseFlags/flagHelp (src/cli/flags.ts): the Go flag-package semantics runc's CLI has,
// i.e. -f/--f, -f=v/-f v, bool values, int parsing, repeatable strings, stopping rules and error texts.
import { describe, expect, it } from 'vitest';
import { flagHelp, parseFlags, UsageError, type FlagDef } from '../../src/cli/flags';

const DEFS: FlagDef[] = [
  { name: 'bundle', type: 'string', usage: 'bundle dir', aliases: ['b'] },
  { name: 'detach', type: 'bool', usage: 'detach', aliases: ['d'] },
  { name: 'preserve-fds', type: 'int', usage: 'extra fds', default: 0 },
  { name: 'env', type: 'strings', usage: 'set an env var', aliases: ['e'] },
  { name: 'root', type: 'string', usage: 'state dir', default: '/run/ocirun' },
  { name: 'criu', type: 'string', usage: 'criu path', hidden: true },
];

const parse = (...argv: string[]) => parseFlags(DEFS, argv);

describe('parseFlags: flag spellings', () => {
  it('treats -flag and --flag the same', () => {
    expect(parse('-bundle', '/a').values.bundle).toBe('/a');
    expect(parse('--bundle', '/a').values.bundle).toBe('/a');
  });

  it('takes the value from -f=v and from the next argument', () => {
    expect(parse('--bundle=/x').values.bundle).toBe('/x');
    expect(parse('-bundle=/x').values.bundle).toBe('/x');
    expect(parse('--bundle', '/y').values.bundle).toBe('/y');
  });

  it('splits -f=v at the first "=" only, so values may contain "="', () => {
    expect(parse('--env=A=B=C').values.env).toEqual(['A=B=C']);
  });

  it('accepts an empty value after "="', () => {
    expect(parse('--bundle=').values.bundle).toBe('');
  });

  it('takes the next argument as the value even when it looks like a flag (Go does)', () => {
    const r = parse('--bundle', '--detach', 'id');
    expect(r.values.bundle).toBe('--detach');
    expect(r.values.detach).toBeUndefined();
    expect(r.rest).toEqual(['id']);
  });

  it('resolves aliases to the canonical name', () => {
    const r = parse('-b', '/bb', '-d', '-e', 'X=1');
    expect(r.values).toEqual({ bundle: '/bb', detach: true, env: ['X=1'], 'preserve-fds': 0, root: '/run/ocirun' });
  });

  it('accepts an alias with two dashes too', () => {
    expect(parse('--b=/z').values.bundle).toBe('/z');
  });
});

describe('parseFlags: bool flags', () => {
  it('sets true when given without a value', () => {
    expect(parse('--detach').values.detach).toBe(true);
  });

  it.each(['1', 't', 'T', 'true', 'TRUE', 'True'])('accepts =%s as true', (v) => {
    expect(parse(`--detach=${v}`).values.detach).toBe(true);
  });

  it.each(['0', 'f', 'F', 'false', 'FALSE', 'False'])('accepts =%s as false', (v) => {
    expect(parse(`--detach=${v}`).values.detach).toBe(false);
  });

  it('never consumes the next argument: "-d false" leaves "false" as the first positional', () => {
    const r = parse('-d', 'false', 'x');
    expect(r.values.detach).toBe(true);
    expect(r.rest).toEqual(['false', 'x']);
  });

  it('rejects other boolean spellings', () => {
    expect(() => parse('--detach=yes')).toThrow(UsageError);
    expect(() => parse('--detach=yes')).toThrow('invalid boolean value "yes" for -detach');
  });

  // Regression (was a bug): Go's flag package reports `invalid boolean value "yes" for -detach: parse error`
  // (the ": parse error" suffix from strconv.ParseBool); parseFlags drops the suffix, although
  // its int error keeps it.
  it('reports bad booleans with Go\'s exact text', () => {
    expect(() => parse('--detach=yes')).toThrow(/^invalid boolean value "yes" for -detach: parse error$/);
  });
});

describe('parseFlags: int flags', () => {
  it('parses decimal values, negative ones included', () => {
    expect(parse('--preserve-fds', '3').values['preserve-fds']).toBe(3);
    expect(parse('--preserve-fds=-2').values['preserve-fds']).toBe(-2);
  });

  it('rejects non-numbers with Go\'s error text', () => {
    expect(() => parse('--preserve-fds', 'abc')).toThrow(UsageError);
    expect(() => parse('--preserve-fds', 'abc')).toThrow('invalid value "abc" for flag -preserve-fds: parse error');
    expect(() => parse('--preserve-fds=1.5')).toThrow('invalid value "1.5" for flag -preserve-fds: parse error');
    expect(() => parse('--preserve-fds=')).toThrow('invalid value "" for flag -preserve-fds: parse error');
  });

  // Regression (was a bug): Go's int flag parses with strconv.ParseInt(s, 0, 64), which accepts a sign and base
  // prefixes, so runc takes `--preserve-fds 0x2` and `+2`; parseFlags only accepts -?\d+.
  it('accepts the base prefixes and sign Go\'s ParseInt(s, 0, 64) accepts', () => {
    expect(parse('--preserve-fds=0x10').values['preserve-fds']).toBe(16);
    expect(parse('--preserve-fds=+2').values['preserve-fds']).toBe(2);
  });
});

describe('parseFlags: string and strings flags', () => {
  it('keeps the last value of a repeated string flag', () => {
    expect(parse('-b', '/1', '-b', '/2').values.bundle).toBe('/2');
  });

  it('accumulates a repeated strings flag in order, across aliases and spellings', () => {
    expect(parse('--env', 'A=1', '-e=B=2', '-env', 'C=3').values.env).toEqual(['A=1', 'B=2', 'C=3']);
  });
});

describe('parseFlags: defaults', () => {
  it('fills defaults and leaves flags without one absent', () => {
    const r = parse();
    expect(r.values).toEqual({ 'preserve-fds': 0, root: '/run/ocirun' });
    expect('bundle' in r.values).toBe(false);
    expect(r.rest).toEqual([]);
  });

  it('lets the command line override a default', () => {
    expect(parse('--root', '/tmp/r').values.root).toBe('/tmp/r');
  });

  it('does not share state between calls', () => {
    parse('--env', 'A=1');
    expect(parse().values.env).toBeUndefined();
  });
});

describe('parseFlags: where parsing stops', () => {
  it('stops at the first non-flag argument; later flags stay positional', () => {
    const r = parse('-d', 'myid', '--bundle', '/b');
    expect(r.values.detach).toBe(true);
    expect(r.values.bundle).toBeUndefined();
    expect(r.rest).toEqual(['myid', '--bundle', '/b']);
  });

  it('consumes "--" and returns everything after it', () => {
    const r = parse('-d', '--', '--bundle', 'x');
    expect(r.values.detach).toBe(true);
    expect(r.rest).toEqual(['--bundle', 'x']);
  });

  it('treats a lone "-" as a positional argument', () => {
    expect(parse('-d', '-', 'x').rest).toEqual(['-', 'x']);
  });

  it('returns the arguments after a flag value', () => {
    expect(parse('--bundle', '/b', 'id', 'extra').rest).toEqual(['id', 'extra']);
  });
});

describe('parseFlags: errors', () => {
  it('rejects an unknown flag with Go\'s text, spelled with one dash', () => {
    expect(() => parse('-x')).toThrow(UsageError);
    expect(() => parse('-x')).toThrow(/^flag provided but not defined: -x$/);
    expect(() => parse('--nope=1')).toThrow(/^flag provided but not defined: -nope$/);
  });

  it('rejects an unknown flag even after known ones', () => {
    expect(() => parse('-d', '--what')).toThrow('flag provided but not defined: -what');
  });

  it('reports a missing value with Go\'s text', () => {
    expect(() => parse('-b')).toThrow(UsageError);
    expect(() => parse('-b')).toThrow(/^flag needs an argument: -b$/);
    expect(() => parse('--preserve-fds')).toThrow(/^flag needs an argument: -preserve-fds$/);
    expect(() => parse('--env')).toThrow(/^flag needs an argument: -env$/);
  });

  it('knows hidden flags when parsing', () => {
    expect(parse('--criu', '/usr/sbin/criu').values.criu).toBe('/usr/sbin/criu');
  });
});

describe('flagHelp', () => {
  const help = flagHelp(DEFS);
  const lines = help.split('\n');

  it('lists every visible flag, one a line, in definition order', () => {
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.trim().split(/[ ,]/)[0])).toEqual(['--bundle', '--detach', '--preserve-fds', '--env', '--root']);
  });

  it('hides hidden flags', () => {
    expect(help).not.toContain('criu');
  });

  it('spells one-letter names with one dash, adds "value" for non-bools and shows non-bool defaults', () => {
    expect(lines[0]).toBe(`   ${'--bundle, -b value'.padEnd(28)} bundle dir`);
    expect(lines[1]).toBe(`   ${'--detach, -d'.padEnd(28)} detach`);
    expect(lines[2]).toBe(`   ${'--preserve-fds value'.padEnd(28)} extra fds (default: 0)`);
    expect(lines[4]).toBe(`   ${'--root value'.padEnd(28)} state dir (default: "/run/ocirun")`);
  });

  it('does not show a default for bool flags', () => {
    expect(flagHelp([{ name: 'x', type: 'bool', usage: 'u', default: false }])).toBe(`   ${'-x'.padEnd(28)} u`);
  });
});
