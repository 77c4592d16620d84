// Tests for config.json syntax errors: line/column reporting, the message
// format, and the fallback scanner that locates errors V8 does not place.

import { describe, expect, it } from 'vitest';
import { ConfigError, lineColumn, parseConfig, parseJson } from '../../src/oci';
import { syntaxErrorOffset } from '../../src/oci/json';

function syntaxError(text: string, source?: string): ConfigError {
  try {
    parseJson(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe('parseJson syntax errors', () => {
  it('reports line and column in a multi-line document', () => {
    const text = '{\n  "ociVersion": "1.3.0",\n    x\n}';
    const e = syntaxError(text);
    expect(e.message).toBe('config.json: invalid JSON at line 3, column 5: Expected double-quoted property name');
    expect([e.line, e.column]).toEqual([3, 5]);
    expect(e.path).toBe('');
  });

  it('places a missing comma on the line where the next member starts', () => {
    const text = '{\n\t"a": 1\n\t"b": 2\n}\n';
    const e = syntaxError(text);
    expect([e.line, e.column]).toEqual([3, 2]);
    expect(e.message).toMatch(/^config\.json: invalid JSON at line 3, column 2: Expected ',' or '}'/);
  });

  it('counts CRLF as one line break', () => {
    const e = syntaxError('{\r\n"a": 1,\r\n}');
    expect([e.line, e.column]).toEqual([3, 1]);
  });

  it('counts a surrogate pair as one column', () => {
    const e = syntaxError('{"x": "\u{1F600}\u{1F600}" ,,}');
    expect([e.line, e.column]).toEqual([1, 13]);
  });

  it('uses the given source name', () => {
    expect(syntaxError('[', 'process.json').message).toMatch(/^process\.json: invalid JSON at line 1, column 2: /);
  });

  // These V8 messages carry no position, so the scanner has to find it.
  it('locates a bad literal V8 reports without a position', () => {
    const e = syntaxError('{\n  "terminal": tru}\n');
    expect([e.line, e.column]).toEqual([2, 18]);
    expect(e.message).toBe("config.json: invalid JSON at line 2, column 18: Unexpected token '}'");
  });

  it('locates errors deep inside, dropping V8\'s quoted snippet', () => {
    const e = syntaxError('{"a": {"b": [true, false, null, nul]}}');
    expect(e.message).toBe("config.json: invalid JSON at line 1, column 36: Unexpected token ']'");
    expect([e.line, e.column]).toEqual([1, 36]);
    expect(syntaxError('[1,,2]').column).toBe(4);
    // Long documents get a snippet elided at both ends.
    const long = `{"a": "${'x'.repeat(50)}", "b": tru, "c": "${'y'.repeat(50)}"}`;
    expect(syntaxError(long).message).toBe("config.json: invalid JSON at line 1, column 69: Unexpected token ','");
  });

  it('locates an empty or whitespace-only file at its end', () => {
    expect(syntaxError('').message).toBe('config.json: invalid JSON at line 1, column 1: Unexpected end of JSON input');
    const e = syntaxError('\n\n  ');
    expect([e.line, e.column]).toEqual([3, 3]);
  });

  it('locates a truncated document at its end', () => {
    const e = syntaxError('{\n  "process": {\n    "cwd": "/"\n');
    expect([e.line, e.column]).toEqual([4, 1]);
  });

  it('is what parseConfig throws before any validation', () => {
    expect(() => parseConfig('{"ociVersion": }')).toThrow(/^config\.json: invalid JSON at line 1, column 16: /);
  });
});

describe('syntaxErrorOffset agrees with V8 where V8 gives a position', () => {
  const samples = [
    '{"a": 1,}',
    '{"a": "b',
    '[1, 2',
    '{"a":1} x',
    '{"a":"\u0001"}',
    '{"a": 01}',
    '{"a": -}',
    '{"a":"\\q"}',
    '{"a":"\\u12G4"}',
    '\n\n{',
    '{"a":1}}',
    '{"a" 1}',
    '{"a": [1, {"b": 2.}]}',
    '{"a": 1e}',
    '[[[[[[[[[[]]]]]]]]]]]',
  ];
  for (const text of samples) {
    it(JSON.stringify(text), () => {
      let v8: number | undefined;
      try {
        JSON.parse(text);
      } catch (e) {
        v8 = Number(/at position (\d+)/.exec((e as Error).message)?.[1]);
      }
      expect(v8).toBeTypeOf('number');
      expect(syntaxErrorOffset(text)).toBe(v8);
    });
  }

  it('returns -1 for valid JSON, including deep nesting', () => {
    expect(syntaxErrorOffset('{"a": [1, -2.5e+3, "x\\u00e9\\n", true, false, null, {}, []]}')).toBe(-1);
    expect(syntaxErrorOffset('['.repeat(100_000) + ']'.repeat(100_000))).toBe(-1);
  });
});

describe('lineColumn', () => {
  it('maps offsets to 1-based positions', () => {
    const text = 'ab\ncd\n\nef';
    expect(lineColumn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn(text, 2)).toEqual({ line: 1, column: 3 });
    expect(lineColumn(text, 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn(text, 7)).toEqual({ line: 4, column: 1 });
    expect(lineColumn(text, 9)).toEqual({ line: 4, column: 3 });
  });
});
