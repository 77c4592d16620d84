// The CLI details engines depend on, side by side with runc 1.1.5: the checkpoint probe podman makes, go-runc's
// single-dash restore flags, and the `"level":"error"` JSON log line containerd shows for a missing container.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, runtimeEnv, scratchBase, uniqueId } from './helpers/env';

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

function call(bin: string, args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: runtimeEnv(), timeout: 20_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

test('checkpoint --help answers the support probe truthfully: runc says yes, ocirun (no CRIU) says no', () => {
  // podman's CRRuntimeSupportsCheckpointRestore runs exactly this and looks only at the exit status.
  expect(call(RUNC_BIN, ['checkpoint', '--help']).code).toBe(0);
  const r = call(OCIRUN_BIN, ['checkpoint', '--help']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('checkpoint: ocirun is built without checkpoint/restore (CRIU) support');
});

test("go-runc's restore spelling (-detach -no-subreaper, one dash) parses, and the refusal names the container", () => {
  const root = path.join(scratchBase(), uniqueId('restore-root'));
  const args = ['--root', root, 'restore', '-detach', '-no-subreaper', '-no-pivot', '--work-path', '/tmp', '--image-path', '/nonexistent-image', '--bundle', '/nonexistent-bundle', 'r1'];
  try {
    const runc = call(RUNC_BIN, args);
    const ours = call(OCIRUN_BIN, args);
    for (const r of [runc, ours]) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).not.toContain('flag provided but not defined');
    }
    expect(ours.stderr).toContain('restore r1: ocirun is built without checkpoint/restore (CRIU) support');
    // An unknown flag is still a usage error, as in runc.
    const bad = call(OCIRUN_BIN, ['restore', '-no-such-flag', 'r1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('flag provided but not defined: -no-such-flag');
    expect(fs.existsSync(path.join(root, 'r1'))).toBe(false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a missing container: the last JSON log line is level error and says "does not exist", as containerd matches', () => {
  const dir = path.join(scratchBase(), uniqueId('jsonlog'));
  fs.mkdirSync(dir, { recursive: true });
  try {
    for (const [name, bin] of [['runc', RUNC_BIN], ['ocirun', OCIRUN_BIN]] as const) {
      for (const cmd of [['state', 'nope'], ['kill', 'nope', 'KILL'], ['delete', 'nope'], ['pause', 'nope'], ['exec', 'nope', 'true']]) {
        const log = path.join(dir, `${name}-${cmd[0]}.json`);
        const r = call(bin, ['--root', dir, '--log', log, '--log-format', 'json', ...cmd]);
        expect(r.code, `${name} ${cmd[0]}`).not.toBe(0);
        const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
        const last = lines[lines.length - 1];
        expect(last.level, `${name} ${cmd[0]}`).toBe('error');
        expect(last.msg, `${name} ${cmd[0]}`).toMatch(/does not exist/);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a --log that cannot be opened fails the command, as in runc; --version and --help still answer', () => {
  for (const bin of [RUNC_BIN, OCIRUN_BIN]) {
    const r = call(bin, ['--log', '/nonexistent-ocirun-dir/log.json', 'list']);
    expect(r.code, bin).toBe(1);
    expect(r.stderr, bin).toContain('open /nonexistent-ocirun-dir/log.json: no such file or directory');
    const j = call(bin, ['--log', '/nonexistent-ocirun-dir/log.json', '--log-format', 'json', 'list']);
    expect(j.code, bin).toBe(1);
    expect(JSON.parse(j.stderr.trim().split('\n')[0]) as Record<string, string>, bin).toMatchObject({ level: 'error', msg: 'open /nonexistent-ocirun-dir/log.json: no such file or directory' });
    const v = call(bin, ['--log', '/nonexistent-ocirun-dir/log.json', '--version']);
    expect(v.code, bin).toBe(0);
    expect(v.stdout, bin).toMatch(/version/);
    expect(fs.existsSync('/nonexistent-ocirun-dir'), bin).toBe(false);
  }
});
