// One --root holding both runc's and ocirun's containers, as on a Kubernetes node where containerd's runc shim
// runs the default handler (runc) and an `ocirun` handler without its own Root: each runtime lists, reports and
// deletes only its own containers and says so about the other's (runc's behaviour is the reference).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { OCIRUN_BIN, RUNC_BIN, requireBinaries, uniqueId } from './helpers/env';
import { messages } from './helpers/observe';
import { binFor, create, del, explain, kill, ok, run, state, stateRaw, type Runtime } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

test("ocirun and runc sharing a --root: each sees only its own containers and leaves the other's alone", () => {
  const ours = sb.runtime('ocirun');
  // runc on the very same root; its container is deleted below, through runc.
  const theirs: Runtime = { ...ours, name: 'runc', bin: binFor('runc') };
  const mine = sb.track(ours, uniqueId('ours'));
  const other = uniqueId('runcs');
  ok(create(ours, mine, sb.bundle({ args: ['sleep', '60'] }).dir));
  ok(create(theirs, other, sb.bundle({ args: ['sleep', '60'] }, 'runc-bundle').dir));
  try {
    // list: only our own, in every format, and a note about the entry we cannot load, as runc gives for ours.
    for (const format of [[], ['-q'], ['-f', 'json']]) {
      const l = run(ours, ['list', ...format]);
      expect(l.code, explain(l)).toBe(0);
      expect(l.stdout).toContain(mine);
      expect(l.stdout).not.toContain(other);
      expect(l.stderr).toContain(`load container ${other}: container ${other} is not ocirun's`);
    }
    const r = run(theirs, ['list', '-q']);
    expect(r.stdout, explain(r)).toBe(`${other}\n`);
    expect(r.stderr).toContain(`load container ${mine}:`);

    // state, kill and delete --force of runc's container fail and name the reason; runc's container is untouched.
    for (const args of [['state', other], ['kill', other, 'KILL'], ['delete', '--force', other]]) {
      const e = run(ours, args);
      expect(e.code, explain(e)).toBe(1);
      expect(messages(e.stderr), explain(e)).toContain(`container ${other} is not ocirun's`);
    }
    expect(state(theirs, other).status).toBe('created');
    expect(state(ours, mine).status).toBe('created');
    // And runc refuses ours likewise (the reference for the behaviour above).
    expect(stateRaw(theirs, mine).code).not.toBe(0);
    expect(kill(theirs, mine, 'KILL').code).not.toBe(0);
    expect(state(ours, mine).status).toBe('created');
  } finally {
    del(theirs, other, true);
  }
  expect(fs.existsSync(path.join(ours.root, other))).toBe(false);
});
