// Bad bundles and arguments given to ocirun: each must fail with a useful message,
// a non-zero exit, and no state dir, mount, process or cgroup left behind.
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxSeccomp } from '../../src/oci/spec';
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

  // A profile that would be valid but for one field; each case breaks that field. The JSON path in the
  // message is ocirun's own (runc reports libseccomp's wording), so the path checks skip under runc.
  function seccompProfile(): LinuxSeccomp {
    return {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
      ],
    };
  }
  const SECCOMP_CASES: [string, (s: LinuxSeccomp) => void, string, string][] = [
    ['unknown action', (s) => void ((s.syscalls![1] as { action: string }).action = 'SCMP_ACT_FOO'), 'linux.seccomp.syscalls[1].action', 'SCMP_ACT_FOO'],
    ['unknown operator', (s) => void ((s.syscalls![1].args![0] as { op: string }).op = 'SCMP_CMP_FOO'), 'linux.seccomp.syscalls[1].args[0].op', 'SCMP_CMP_FOO'],
    ['arg index over 5', (s) => void (s.syscalls![1].args![0].index = 6), 'linux.seccomp.syscalls[1].args[0].index', 'between 0 and 5'],
    ['unknown architecture', (s) => void (s.architectures as string[]).push('SCMP_ARCH_VAX'), 'linux.seccomp.architectures[3]', 'SCMP_ARCH_VAX'],
    ['errnoRet with a non-ERRNO action', (s) => void (s.syscalls![0].errnoRet = 1), 'linux.seccomp.syscalls[0].errnoRet', 'SCMP_ACT_ERRNO'],
  ];
  // runc ignores an errnoRet it cannot return (crun refuses it, as ocirun does); the other four fail in runc too.
  test.skipIf(OCIRUN_IS_RUNC).each(SECCOMP_CASES)('seccomp: %s', (_name, breakIt, jsonPath, detail) => {
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`bad-seccomp-${verb}`);
    const b = badBundle({
      edit: (s) => {
        const profile = seccompProfile();
        breakIt(profile);
        s.linux!.seccomp = profile;
      },
    });
    const r = attempt(verb, rt, id, b.dir);
    expectFailed(r, `${jsonPath}: `, detail);
    expectNothingLeft(rt, id, b.dir);
  });

  test('seccomp: the same profile unbroken is accepted', () => {
    // The cases above fail for the field they break and nothing else.
    const rt = sb.runtime('ocirun');
    const id = uniqueId(`good-seccomp-${verb}`);
    const b = badBundle({ edit: (s) => void (s.linux!.seccomp = seccompProfile()) });
    const r = attempt(verb, rt, id, b.dir);
    expect(r.code, explain(r)).toBe(0);
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
