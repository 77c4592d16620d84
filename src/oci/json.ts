// JSON text to value, turning syntax errors into a ConfigError that names the
// line and column; holds the fallback scanner that finds where the text breaks.

import { ConfigError } from './errors';

/**
 * JSON.parse, with a syntax error reported as
 * `<source>: invalid JSON at line L, column C: <what V8 said>`.
 */
export function parseJson(text: string, source = 'config.json'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const offset = errorOffset(text, err.message);
    const position = lineColumn(text, offset);
    const detail = `invalid JSON at line ${position.line}, column ${position.column}: ${stripLocation(err.message)}`;
    throw new ConfigError('', `${source}: ${detail}`, position);
  }
}

/** 1-based line and column of a UTF-16 offset; columns count code points. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // \r\n is one break: the \n that follows closes it.
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is one character to the person reading the file.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) i++;
    column++;
  }
  return { line, column };
}

// V8 usually says "... in JSON at position N (line L column C)" but some
// messages ("Unexpected token 'x', "..." is not valid JSON", "Unexpected end
// of JSON input") carry no position, so then we find it ourselves.
function errorOffset(text: string, message: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  return syntaxErrorOffset(text);
}

// The position is restated in our own terms and the quoted snippet is noise.
function stripLocation(message: string): string {
  return message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

const enum Frame {
  Array,
  Object,
}

/**
 * Offset of the first character that makes `text` invalid JSON (text.length
 * when it ends early), or -1 if it is valid. Iterative, so deep nesting
 * cannot overflow the stack. Only run after JSON.parse has already failed.
 */
export function syntaxErrorOffset(text: string): number {
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;

  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

  // Each scanner returns false with i left on the offending character.
  const scanString = (): boolean => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        i++;
        if (i >= n) return false;
        const e = text[i];
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= n || !isHex(text.charCodeAt(i))) return false;
          }
        } else if (!'"\\/bfnrt'.includes(e)) {
          return false;
        }
      }
      i++;
    }
    return false;
  };
  const scanDigits = (): boolean => {
    if (i >= n || !isDigit(text.charCodeAt(i))) return false;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    return true;
  };
  const scanNumber = (): boolean => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!scanDigits()) return false;
    if (text[i] === '.') {
      i++;
      if (!scanDigits()) return false;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!scanDigits()) return false;
    }
    return true;
  };
  const scanLiteral = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) return false;
    }
    return true;
  };
  // After '{' or ',' inside an object: a key and its colon.
  const scanKey = (): boolean => {
    if (text[i] !== '"' || !scanString()) return false;
    skipWs();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };

  skipWs();
  for (;;) {
    // Expecting a value at i.
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      skipWs();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++; // an empty container is a complete value
      } else {
        stack.push(c === '{' ? Frame.Object : Frame.Array);
        if (c === '{' && !scanKey()) return i;
        skipWs();
        continue;
      }
    } else if (c === '"') {
      if (!scanString()) return i;
    } else if (c === '-' || (c !== undefined && isDigit(c.charCodeAt(0)))) {
      if (!scanNumber()) return i;
    } else if (c === 't' || c === 'f' || c === 'n') {
      if (!scanLiteral(c === 't' ? 'true' : c === 'f' ? 'false' : 'null')) return i;
    } else {
      return i;
    }

    // After a complete value: close containers or move to the next element.
    for (;;) {
      skipWs();
      if (stack.length === 0) return i < n ? i : -1;
      const top = stack[stack.length - 1];
      const d = text[i];
      if (d === ',') {
        i++;
        skipWs();
        if (top === Frame.Object && !scanKey()) return i;
        skipWs();
        break;
      }
      if ((top === Frame.Array && d === ']') || (top === Frame.Object && d === '}')) {
        stack.pop();
        i++;
        continue;
      }
      return i;
    }
  }
}
