// Small validation combinators that carry the JSON path, so the config schema
// reads as a table and every failure names the value it is about.

import { ConfigError } from './errors';

/** Throws a ConfigError naming `path` when `value` is unacceptable. */
export type Check = (value: unknown, path: string) => void;

/** A cross-field rule run on an object after its own fields passed. */
export type Rule = (o: Record<string, unknown>, path: string) => void;

interface Required {
  required: true;
  check: Check;
  missing: string;
}

export type Fields = Record<string, Check | Required>;

export function fail(path: string, detail: string): never {
  throw new ConfigError(path, detail);
}

export function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Map keys are free text (sysctl names have dots), so quote the odd ones. */
export function keyPath(path: string, key: string): string {
  return IDENT.test(key) ? at(path, key) : `${path}[${JSON.stringify(key)}]`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field that must be present; `missing` is the message when it is not. */
export function required(check: Check, missing = 'required'): Required {
  return { required: true, check, missing };
}

export const str: Check = (v, p) => {
  if (typeof v !== 'string') fail(p, 'must be a string');
};

export const nonEmptyStr: Check = (v, p) => {
  str(v, p);
  if (v === '') fail(p, 'must not be empty');
};

export const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'must be a boolean');
};

/**
 * Integer in [min, max]. JSON numbers are doubles, so 64-bit bounds are the
 * nearest doubles (2^63, 2^64): 2^64-1 written in the file arrives as 2^64.
 */
export function int(min: number, max: number, detail = `must be an integer between ${min} and ${max}`): Check {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(p, detail);
  };
}

export const U16 = int(0, 0xffff);
export const U32 = int(0, 0xffffffff);
export const I32 = int(-0x80000000, 0x7fffffff);
export const I64 = int(-(2 ** 63), 2 ** 63, 'must be a 64-bit integer');
export const U64 = int(0, 2 ** 64, 'must be a non-negative 64-bit integer');

export function absPath(detail = 'must be an absolute path'): Check {
  return (v, p) => {
    str(v, p);
    if (!(v as string).startsWith('/')) fail(p, detail);
  };
}

/** One of a closed set of strings; `noun` names the set in the message. */
export function oneOf(values: readonly string[], noun: string): Check {
  const known = new Set(values);
  return (v, p) => {
    str(v, p);
    if (!known.has(v as string)) fail(p, `unknown ${noun} ${JSON.stringify(v)}`);
  };
}

export function arrayOf(item: Check, opts: { nonEmpty?: boolean } = {}): Check {
  return (v, p) => {
    if (!Array.isArray(v)) fail(p, 'must be an array');
    if (opts.nonEmpty && v.length === 0) fail(p, 'must not be empty');
    for (let i = 0; i < v.length; i++) item(v[i], index(p, i));
  };
}

/** A JSON object used as a map; `key` may vet each key. */
export function mapOf(value: Check, key?: (k: string, path: string) => void): Check {
  return (v, p) => {
    if (!isObject(v)) fail(p, 'must be an object');
    for (const k of Object.keys(v)) {
      const kp = keyPath(p, k);
      if (key) key(k, kp);
      value(v[k], kp);
    }
  };
}

/**
 * An object with known fields. Fields not listed are left alone: the spec
 * says unknown properties MUST be ignored, and they stay in the object.
 */
export function obj(fields: Fields, ...rules: Rule[]): Check {
  const entries = Object.entries(fields).map(([name, f]) =>
    typeof f === 'function' ? { name, check: f, missing: undefined } : { name, check: f.check, missing: f.missing },
  );
  return (v, p) => {
    if (!isObject(v)) fail(p, 'must be an object');
    for (const e of entries) {
      const value = v[e.name];
      if (value === undefined) {
        if (e.missing !== undefined) fail(at(p, e.name), e.missing);
        continue;
      }
      e.check(value, at(p, e.name));
    }
    for (const rule of rules) rule(v, p);
  };
}

export function all(...checks: Check[]): Check {
  return (v, p) => {
    for (const c of checks) c(v, p);
  };
}

/** For arrays of objects already checked: `field` must not repeat. */
export function uniqueBy(field: string, noun: string): Check {
  return (v, p) => {
    const seen = new Set<unknown>();
    (v as Record<string, unknown>[]).forEach((item, i) => {
      const key = item[field];
      if (seen.has(key)) fail(at(index(p, i), field), `duplicate ${noun} ${JSON.stringify(key)}`);
      seen.add(key);
    });
  };
}
