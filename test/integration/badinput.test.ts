// Bad bundles and arguments given to ocirun: each must fail with a useful message,
// a non-zero exit, and no state dir, mount, process or cgroup left behind.
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, BundleOptions } from './helpers/bundle';
import { OCIRUN_BIN, OCIRUN_IS_RUNC, uniqueId, requireBinaries } from './helpers/env';
import { scanMounts } from './helpers/leftovers';
import { expectFailed, expectNothingLeft } from './helpers/observe';
import { create, explain, kill, ok, run, state, type RunResult, type Runtime } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(OCIRUN_BIN));

type Verb = 'create' | 'run';

function attempt(verb: Verb, rt: Runtime, id: string, bundleDir: string): RunResult {
  sb.track(rt, id);
  return verb === 'create' ? create(rt, id, bundleDir) : run(rt, ['run', '--bundle', bundleDir, id]);
}

const VERBS: Verb[] = ['create', 'run'];

/** A config.json whose third line holds a stray comma at column 15. */
const MALFORMED = '{\n  "ociVersion": "1.0.2",\n  "process": {,\n  }\n}\n';

describe.each(VERBS)('bad input to %s', (verb) => {
  function badBundle(opts: BundleOptions): Bundle {
    return sb.bundle({ args: ['true'], ...opts });
  }

  test('missing bundle directory', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-nobundle-${verb}`);
    const missing = path.join(sb.testDir, 'no-such-bundle');
    const r = attempt(verb, rt, id, missing);
    // runc: "chdir <dir>: no such file or directory".
    expectFailed(r, missing, /no such (file or )?directory/);
    expectNothingLeft(rt, id, missing);
  });

  test('bundle without config.json', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-noconfig-${verb}`);
    const b = badBundle({});
    fs.rmSync(b.configPath);
    const r = attempt(verb, rt, id, b.dir);
    // runc: "JSON specification file config.json not found".
    expectFailed(r, 'config.json', /not found|no such file/);
    expectNothingLeft(rt, id, b.dir);
  });

  test('missing rootfs', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-norootfs-${verb}`);
    const b = badBundle({ rootfs: 'none' });
    const r = attempt(verb, rt, id, b.dir);
    // runc: "invalid rootfs: stat <bundle>/rootfs: no such file or directory".
    expectFailed(r, path.join(b.dir, 'rootfs'), /no such file|does not exist/);
    expectNothingLeft(rt, id, b.dir);
  });

  test('malformed config.json', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-json-${verb}`);
    const b = badBundle({ rawConfig: MALFORMED });
    const r = attempt(verb, rt, id, b.dir);
    // runc's wording: "invalid character ',' looking for beginning of object key string".
    expectFailed(r, /\S/);
    expectNothingLeft(rt, id, b.dir);
  });

  test.skipIf(OCIRUN_IS_RUNC)('malformed config.json: the error gives line and column', () => {
    // ocirun's own improvement over runc, whose Go decoder reports no position.
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-jsonpos-${verb}`);
    const b = badBundle({ rawConfig: MALFORMED });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, /(line\W*3\W+col(umn)?\W*15\b)|(\b3:15\b)/i);
    expectNothingLeft(rt, id, b.dir);
  });

  test('process.args given as a string', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-argsstr-${verb}`);
    const b = badBundle({
      edit: (s) => {
        (s.process as unknown as { args: unknown }).args = 'sh';
      },
    });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'process.args');
    expectNothingLeft(rt, id, b.dir);
  });

  test('unknown namespace type', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-ns-${verb}`);
    const b = badBundle({
      edit: (s) => {
        s.linux!.namespaces = [...(s.linux!.namespaces ?? []), { type: 'bogusns' }];
      },
    });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'bogusns');
    expectNothingLeft(rt, id, b.dir);
  });

  test('relative process.cwd', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-cwd-${verb}`);
    const b = badBundle({ cwd: 'relative/dir' });
    const r = attempt(verb, rt, id, b.dir);
    // runc: "Cwd must be an absolute path".
    expectFailed(r, /cwd\W+must be an absolute path/i);
    expectNothingLeft(rt, id, b.dir);
  });

  test('relative root.path that leads out of the bundle', () => {
    // runc follows "../elsewhere"; ocirun refuses a bundle that points outside itself.
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-rootpath-${verb}`);
    const b = badBundle({ edit: (s) => void (s.root.path = '../elsewhere') });
    expect(fs.existsSync(path.join(b.dir, '..', 'elsewhere', 'bin', 'busybox')), 'the rootfs it names exists').toBe(true);
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'root.path', '../elsewhere');
    expectNothingLeft(rt, id, b.dir);
    expect(scanMounts(path.join(b.dir, '..', 'elsewhere'))).toEqual([]);
  });

  test('rootfs that is a symlink', () => {
    // runc: "invalid rootfs: not an absolute path, or a symlink"; the link's target would be mounted unchecked.
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-rootlink-${verb}`);
    const b = badBundle({});
    fs.renameSync(b.rootfs, path.join(b.dir, 'real'));
    fs.symlinkSync('real', b.rootfs);
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'root.path', 'symlink');
    expectNothingLeft(rt, id, b.dir);
  });

  test('capability name with a typo', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-cap-${verb}`);
    const b = badBundle({ edit: (s) => void s.process.capabilities!.bounding!.push('CAP_CHWON') });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'process.capabilities.bounding', 'CAP_CHWON');
    expectNothingLeft(rt, id, b.dir);
  });

  test('sysctl that no namespace of the container isolates', () => {
    // The host's own value, so that even a runtime that wrongly wrote it would change nothing.
    const current = fs.readFileSync('/proc/sys/vm/swappiness', 'utf8').trim();
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-sysctl-${verb}`);
    const b = badBundle({ edit: (s) => void (s.linux!.sysctl = { 'vm.swappiness': current }) });
    const r = attempt(verb, rt, id, b.dir);
    // runc: "sysctl "vm.swappiness" is not in a separate kernel namespace".
    expectFailed(r, 'vm.swappiness', 'not in a separate kernel namespace');
    expectNothingLeft(rt, id, b.dir);
  });

  test('uid mappings without a user namespace', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-uidmap-${verb}`);
    const b = badBundle({ edit: (s) => void (s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]) });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'linux.uidMappings', /user/);
    expectNothingLeft(rt, id, b.dir);
  });

  test('executable not found', () => {
    // runc resolves args[0] inside the container before create returns, so even
    // create fails; the half-started init must then be torn down completely. The
    // wording matters: containerd/Docker map "executable file not found" to exit 127.
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-noexe-${verb}`);
    const b = badBundle({ args: ['no-such-command'] });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, 'no-such-command', 'executable file not found in $PATH');
    expectNothingLeft(rt, id, b.dir);
  });
});

describe('bad input to kill', () => {
  test('unknown signal is named in the error and the container is untouched', () => {
    const rt = sb.runtime('ocirun');
    const id = sb.track(rt, uniqueId('bad-signal'));
    const b = sb.bundle({ args: ['sleep', '60'] });
    ok(create(rt, id, b.dir));
    const before = state(rt, id);
    const r = kill(rt, id, 'SIGNOPE');
    expectFailed(r, 'SIGNOPE');
    expect(r.code).toBe(1);
    const after = state(rt, id);
    expect(after.status).toBe('created');
    expect(after.pid).toBe(before.pid);
  });

  test('unknown signal to a missing container leaves no state behind', () => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId('bad-signal-missing');
    const r = kill(rt, id, 'SIGNOPE');
    expect(r.code, explain(r)).toBe(1);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  });
});
