// start's wait for the init's first byte on the exec fifo: a dead init is "stopped" only if it never wrote,
// however late the check comes (the race a short program on a loaded machine hits).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { awaitFirstByte } from '../../src/container/start';

let dir = '';
let reader = -1;
let writer = -1;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocirun-fifo-'));
  const fifo = path.join(dir, 'exec.fifo');
  execFileSync('mkfifo', [fifo]);
  reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
});

afterEach(() => {
  for (const fd of [reader, writer]) if (fd >= 0) fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the byte is already there: started, whatever the init is now', () => {
  fs.writeSync(writer, '0');
  expect(() => awaitFirstByte(reader, () => false)).not.toThrow();
});

test('the init writes, execs and its program exits between two looks: still started', () => {
  // The liveness probe runs while the fifo is empty, and the init gets its byte in and is gone by the time it answers.
  let calls = 0;
  const alive = () => {
    calls++;
    fs.writeSync(writer, '0');
    return false;
  };
  expect(() => awaitFirstByte(reader, alive)).not.toThrow();
  expect(calls).toBe(1);
});

test('alive for a while, then dead without ever writing: stopped', () => {
  let calls = 0;
  expect(() => awaitFirstByte(reader, () => ++calls < 3)).toThrow('cannot start a container that has stopped');
  expect(calls).toBe(3);
});

test('the init is slow to write but alive: waits for the byte', () => {
  let calls = 0;
  const alive = () => {
    if (++calls === 5) fs.writeSync(writer, '0');
    return true;
  };
  expect(() => awaitFirstByte(reader, alive)).not.toThrow();
  expect(calls).toBe(5);
});
