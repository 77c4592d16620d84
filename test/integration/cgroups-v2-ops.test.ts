// The v2 paths of pause/resume and kill --all (the driver cgroupDriver() picks for unified-only paths) for real on this host's empty
// cgroup2 hierarchy (/sys/fs/cgroup/unified): cgroup.freeze with the cgroup.events wait, cgroup.kill.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { cgroupDriver } from '../../src/cgroups';
import { isAlive, waitUntil } from './helpers/observe';

const UNIFIED = '/sys/fs/cgroup/unified';
const dir = path.join(UNIFIED, `ocirun-v2ops-${process.pid}`);

afterEach(() => {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    /* gone */
  }
  waitUntil(() => !fs.existsSync(dir) || fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8') === '', 'cgroup empty');
  if (fs.existsSync(dir)) fs.rmdirSync(dir);
});

test.skipIf(!fs.existsSync(path.join(UNIFIED, 'cgroup.procs')))('freeze, thaw and kill through the unified files', () => {
  fs.mkdirSync(dir);
  // The shell forks only after it is in the cgroup: it waits for a line on stdin first.
  const child = spawn('/bin/sh', ['-c', 'read x; sleep 1000 & sleep 1000'], { stdio: ['pipe', 'ignore', 'ignore'] });
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid));
  const d = cgroupDriver({ '': dir });
  waitUntil(() => d.pids().length === 1, 'sh in the cgroup');
  child.stdin!.write('go\n');
  waitUntil(() => d.pids().length === 3, 'sh and two sleeps');
  d.freeze(true);
  expect(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 1');
  expect(d.isPaused()).toBe(true);
  d.freeze(false);
  expect(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 0');
  expect(d.isPaused()).toBe(false);
  const pids = d.pids();
  d.kill(9);
  waitUntil(() => pids.every((p) => !isAlive(p)), 'every process killed by cgroup.kill');
});
