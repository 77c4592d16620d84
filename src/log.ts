// runc-style logging: text (logrus) or JSON lines, to stderr or the --log file.
// Owns the process-wide logger; the last level=error line is what containerd and podman show the user.
import { isoTime } from './time';
import { O_CLOEXEC } from './linux/constants';
import { errnoText } from './linux/errors';
import * as fs from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export interface LogOptions {
  file?: string;
  format?: 'text' | 'json';
  debug?: boolean;
}

let opts: LogOptions = {};
let fd = 2;

export function configureLog(o: LogOptions): void {
  opts = o;
  if (o.file) {
    try {
      fd = fs.openSync(o.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | O_CLOEXEC, 0o644);
    } catch (e) {
      // As runc: a log that cannot be opened fails the command, reported on stderr.
      fd = 2;
      throw new Error(`open ${o.file}: ${errnoText(e)}`);
    }
  }
}

// logrus quotes any value with characters outside this set.
const quote = (s: string) => (/^[\w./@^+-]+$/.test(s) ? s : JSON.stringify(s));

export function log(level: Level, msg: string): void {
  if (level === 'debug' && !opts.debug) return;
  const time = isoTime().replace(/\.\d+Z$/, 'Z');
  const line =
    opts.format === 'json'
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time=${quote(time)} level=${level} msg=${quote(msg)}\n`;
  try {
    fs.writeSync(fd, line);
  } catch {
    /* nowhere left to report to */
  }
}

export const debug = (msg: string) => log('debug', msg);
export const warn = (msg: string) => log('warning', msg);
export const error = (msg: string) => log('error', msg);

// Reports a command's failure the way runc does: the log line, plus the bare message on stderr
// when the log goes elsewhere.
export function fatal(msg: string, code = 1): never {
  log('error', msg);
  if (fd !== 2) {
    try {
      fs.writeSync(2, msg + '\n');
    } catch {
      /* ignore */
    }
  }
  process.exit(code);
}
