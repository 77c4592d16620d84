// `ocirun features` against runc's: the same keys (plus the ones newer spec versions added) with the same
// value types, so engines that parse runc's document (containerd) parse ours.
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, runtimeEnv } from './helpers/env';

// Keys runc 1.1.5 (spec 1.0.2-dev) does not print, defined by later runtime-spec versions' features.md.
const NEWER = {
  linux: ['intelRdt', 'mountExtensions', 'netDevices'],
  'linux.cgroup': ['rdma'],
  'linux.seccomp': ['knownFlags', 'supportedFlags'],
};

function features(bin: string, args: string[] = ['features']) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: runtimeEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  return r;
}

const kind = (v: unknown): string => (Array.isArray(v) ? `array of ${[...new Set(v.map(kind))].join('|') || 'nothing'}` : v === null ? 'null' : typeof v);

// Every path both documents have must hold the same kind of value; objects recurse (annotations excepted:
// its keys are implementation-specific by definition).
function compareTypes(a: any, b: any, path: string, out: string[]): void {
  for (const k of Object.keys(a)) {
    if (!(k in b)) continue;
    const p = path ? `${path}.${k}` : k;
    if (kind(a[k]) !== kind(b[k])) out.push(`${p}: runc ${kind(a[k])}, ocirun ${kind(b[k])}`);
    else if (kind(a[k]) === 'object' && p !== 'annotations') compareTypes(a[k], b[k], p, out);
  }
}

let runc: any;
let ours: any;
let text: string;

beforeAll(() => {
  requireBinaries(OCIRUN_BIN);
  const r = features(OCIRUN_BIN);
  expect(r.status, r.stderr).toBe(0);
  text = r.stdout;
  ours = JSON.parse(text);
  const rr = features(RUNC_BIN);
  expect(rr.status, rr.stderr).toBe(0);
  runc = JSON.parse(rr.stdout);
});

describe('ocirun features', () => {
  test('prints indented JSON like runc (4 spaces, trailing newline)', () => {
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('    "ociVersionMin": "1.0.0",');
    expect(text).toBe(`${JSON.stringify(ours, null, '    ')}\n`);
  });

  test('has runc\'s top-level, linux, cgroup and seccomp keys, plus only the listed newer ones', () => {
    const extra = (a: object, b: object) => Object.keys(b).filter((k) => !(k in a));
    const missing = (a: object, b: object) => Object.keys(a).filter((k) => !(k in b));
    expect(missing(runc, ours)).toEqual([]);
    expect(extra(runc, ours)).toEqual([]);
    expect(missing(runc.linux, ours.linux)).toEqual([]);
    expect(extra(runc.linux, ours.linux)).toEqual(NEWER.linux);
    expect(missing(runc.linux.cgroup, ours.linux.cgroup)).toEqual([]);
    expect(extra(runc.linux.cgroup, ours.linux.cgroup)).toEqual(NEWER['linux.cgroup']);
    expect(missing(runc.linux.seccomp, ours.linux.seccomp)).toEqual([]);
    expect(extra(runc.linux.seccomp, ours.linux.seccomp)).toEqual(NEWER['linux.seccomp']);
    // Same key order where both have the key (containerd does not care, people diffing the two do).
    expect(Object.keys(ours).filter((k) => k in runc)).toEqual(Object.keys(runc));
    expect(Object.keys(ours.linux).filter((k) => k in runc.linux)).toEqual(Object.keys(runc.linux));
  });

  test('every value has the type runc gives it', () => {
    const out: string[] = [];
    compareTypes(runc, ours, '', out);
    expect(out).toEqual([]);
  });

  test('lists what runc lists, but for the documented differences', () => {
    // acl/noacl: runc 1.2 dropped their MS_POSIXACL meaning; ocirun passes them to the filesystem as data.
    expect(runc.mountOptions.filter((o: string) => !ours.mountOptions.includes(o))).toEqual(['acl', 'noacl']);
    expect(runc.linux.capabilities).toEqual(ours.linux.capabilities);
    expect(ours.hooks).toEqual(runc.hooks);
    expect(ours.linux.seccomp.actions).toEqual(runc.linux.seccomp.actions);
    expect(ours.linux.seccomp.operators).toEqual(runc.linux.seccomp.operators);
    // Only the architectures the BPF compiler has syscall tables for (libseccomp knows more).
    expect(ours.linux.seccomp.archs.every((a: string) => runc.linux.seccomp.archs.includes(a))).toBe(true);
    expect(runc.linux.namespaces.filter((n: string) => !ours.linux.namespaces.includes(n))).toEqual([]);
  });

  test('features --help exits 0 and names the command', () => {
    const r = features(OCIRUN_BIN, ['features', '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('features');
  });

  test('extra arguments are a usage error, as in runc', () => {
    expect(features(RUNC_BIN, ['features', 'x']).status).not.toBe(0);
    const r = features(OCIRUN_BIN, ['features', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
  });
});
