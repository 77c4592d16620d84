// Differential tests for the paths a config names inside the rootfs: linux.maskedPaths,
// linux.readonlyPaths, root.readonly and a relative root.path, under runc and ocirun alike.
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle } from './helpers/bundle';
import { runBoth, RUNTIMES, type Pair } from './helpers/differential';
import { OCIRUN_BIN, RUNC_BIN, uniqueId, requireBinaries, sh } from './helpers/env';
import { messages } from './helpers/observe';
import { normaliseMountinfo } from './helpers/normalise';
import { ROOTFS_MARKER } from './helpers/rootfs';
import { create, del, explain, ok, run, state, type RunResult } from './helpers/runtime';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

const MOUNTINFO_MARK = '== mountinfo';

/**
 * For each path: what stat says (type, mode, owner, device numbers), the listing or the first bytes,
 * and whether a write (or, for a directory, creating a file in it) works. Then the mount table.
 */
function probe(paths: string[]): string[] {
  const lines = paths.map((p) =>
    [
      `p='${p}'; echo "== $p"`,
      `stat -c '%F %a %u:%g %t:%T' "$p" 2>&1`,
      `if [ -d "$p" ]; then ls -A "$p" 2>&1; touch "$p/new" 2>/dev/null; echo "create=$?";`,
      `else head -c 64 "$p" 2>&1; echo; (echo changed > "$p") 2>/dev/null; echo "write=$?"; fi`,
    ].join('\n'),
  );
  return sh([...lines, `echo '${MOUNTINFO_MARK}'`, 'cat /proc/self/mountinfo'].join('\n'));
}

function split(r: RunResult): { seen: string; mounts: string[] } {
  const at = r.stdout.indexOf(`${MOUNTINFO_MARK}\n`);
  if (at < 0) throw new Error(`no mount table in the output\n${explain(r)}`);
  return { seen: r.stdout.slice(0, at), mounts: normaliseMountinfo(r.stdout.slice(at + MOUNTINFO_MARK.length + 1)) };
}

/** Both ran and printed the anchors; then what the container saw and its mount table must match. */
function expectSame(p: Pair, anchors: (string | RegExp)[]): { seen: string; mounts: string[] } {
  for (const name of RUNTIMES) {
    expect(p[name].code, `${name}\n${explain(p[name])}`).toBe(0);
    for (const a of anchors) {
      if (typeof a === 'string') expect(p[name].stdout, `${name} lacks ${a}`).toContain(a);
      else expect(p[name].stdout, `${name} lacks ${a}`).toMatch(a);
    }
  }
  const runc = split(p.runc);
  const oci = split(p.ocirun);
  expect(oci.seen).toBe(runc.seen);
  expect(oci.mounts).toEqual(runc.mounts);
  return runc;
}

/**
 * An image with files, directories and symlinks to mask or protect: /data holds the real ones,
 * /etc/link -> /data (absolute) and /data/rel -> . (relative) lead to them through the rootfs.
 */
function shapeImage(b: Bundle): void {
  const d = (p: string): string => path.join(b.rootfs, p);
  fs.mkdirSync(d('data/dir/sub'), { recursive: true });
  fs.writeFileSync(d('data/dir/a'), 'a\n');
  fs.writeFileSync(d('data/file'), 'secret\n');
  fs.writeFileSync(d('data/free'), 'neither masked nor read-only\n');
  fs.writeFileSync(d('data/via-link'), 'reached through /etc/link\n');
  fs.mkdirSync(d('data/via-link-dir'));
  fs.writeFileSync(d('data/via-link-dir/b'), 'b\n');
  fs.writeFileSync(d('data/target'), 'target of a final symlink\n');
  fs.symlinkSync('target', d('data/final-link'));
  fs.mkdirSync(d('data/dir-target'));
  fs.symlinkSync('/data/dir-target', d('data/final-dir-link'));
  fs.symlinkSync('/data', d('etc/link'));
  fs.symlinkSync('.', d('data/rel'));
  fs.symlinkSync('/data/missing-target', d('data/dangling'));
}

const IMAGE_PATHS = [
  '/data/file',
  '/data/dir',
  '/data/missing',
  '/etc/link/via-link',
  '/data/rel/via-link-dir',
  '/data/final-link',
  '/data/final-dir-link',
  '/data/dangling',
];

// What the probe looks at: each path as named, and the real files behind the links.
const PROBED = [...IMAGE_PATHS, '/data/via-link', '/data/via-link-dir', '/data/target', '/data/dir-target', '/data/free'];

describe('differential: linux.maskedPaths', () => {
  test('files, directories, missing paths, paths through symlinks inside the rootfs', () => {
    const p = runBoth(
      sb,
      'paths-masked',
      {
        // runc's template makes the root read-only, which would hide what the masks do to writes.
        readonly: false,
        args: probe(PROBED),
        edit: (s) => {
          s.linux!.maskedPaths = IMAGE_PATHS;
          s.linux!.readonlyPaths = [];
        },
      },
      { prepare: shapeImage },
    );
    const { seen } = expectSame(p, ['== /data/file\ncharacter special file 666 0:0 1:3\n']);
    // The anchors of what masking means, so that equal but wrong outputs cannot pass.
    expect(seen).toContain('== /data/dir\ndirectory ');
    expect(seen).toMatch(/== \/data\/dir\ndirectory .*\ncreate=1\n/);
    expect(seen).toMatch(/== \/data\/via-link\ncharacter special file 666 0:0 1:3\n/);
    expect(seen).toMatch(/== \/data\/target\ncharacter special file 666 0:0 1:3\n/);
    expect(seen).toMatch(/== \/data\/via-link-dir\ndirectory [^\n]*\ncreate=1\n/);
    expect(seen).toMatch(/== \/data\/free\nregular file [^\n]*\nneither masked nor read-only\n\nwrite=0\n/);
  });

  test('the default spec masks under /proc and /sys', () => {
    const files = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware', '/proc/scsi'];
    const p = runBoth(sb, 'paths-masked-default', {
      args: sh(`for p in ${files.join(' ')}; do echo "== $p"; stat -c '%F %t:%T' "$p" 2>&1; done; echo '${MOUNTINFO_MARK}'; cat /proc/self/mountinfo`),
    });
    expectSame(p, ['== /proc/acpi\ndirectory 0:0\n', '== /sys/firmware\ndirectory 0:0\n']);
  });
});

describe('differential: linux.readonlyPaths', () => {
  test('files, directories, missing paths, paths through symlinks inside the rootfs', () => {
    const p = runBoth(
      sb,
      'paths-ro',
      {
        readonly: false,
        args: probe(PROBED),
        edit: (s) => {
          s.linux!.readonlyPaths = IMAGE_PATHS;
          s.linux!.maskedPaths = [];
        },
      },
      { prepare: shapeImage },
    );
    const { seen } = expectSame(p, ['== /data/file\nregular file 644 0:0 0:0\nsecret\n\nwrite=1\n']);
    expect(seen).toMatch(/== \/data\/dir\ndirectory [^\n]*\na\nsub\ncreate=1\n/);
    expect(seen).toMatch(/== \/data\/via-link\nregular file [^\n]*\nreached through \/etc\/link\n\nwrite=1\n/);
    expect(seen).toMatch(/== \/data\/target\nregular file [^\n]*\ntarget of a final symlink\n\nwrite=1\n/);
    expect(seen).toMatch(/== \/data\/dir-target\ndirectory [^\n]*\ncreate=1\n/);
    expect(seen).toMatch(/== \/data\/free\nregular file [^\n]*\nneither masked nor read-only\n\nwrite=0\n/);
  });
});

describe('differential: a masked or read-only path below a regular file', () => {
  test.each(['maskedPaths', 'readonlyPaths'] as const)('linux.%s: both runtimes refuse the config', (field) => {
    const p = runBoth(
      sb,
      `paths-enotdir-${field}`,
      {
        args: ['true'],
        edit: (s) => {
          s.linux!.maskedPaths = [];
          s.linux!.readonlyPaths = [];
          s.linux![field] = ['/data/file/below-a-file'];
        },
      },
      { prepare: shapeImage },
    );
    for (const name of RUNTIMES) {
      expect(p[name].code, explain(p[name])).not.toBe(0);
      expect(messages(p[name].stderr), explain(p[name])).toMatch(/not a directory/i);
    }
    expect(messages(p.ocirun.stderr)).toContain(`linux.${field} /data/file/below-a-file`);
  });
});

describe('differential: root.readonly', () => {
  test.each([true, false])('root.readonly %s: writes to the root and to the mounts on it', (readonly) => {
    const targets = ['/', '/tmp', '/root', '/etc/hostname', '/dev', '/dev/shm'];
    const p = runBoth(sb, `paths-root-ro-${readonly}`, {
      readonly,
      args: sh(
        [
          ...targets.map((t) => `if [ -d ${t} ]; then touch ${t}/new 2>/dev/null; else (echo x >> ${t}) 2>/dev/null; fi; echo "${t} write=$?"`),
          `echo '${MOUNTINFO_MARK}'`,
          'cat /proc/self/mountinfo',
        ].join('\n'),
      ),
    });
    const rootWrite = readonly ? '1' : '0';
    const { seen, mounts } = expectSame(p, [`/ write=${rootWrite}\n`, '/dev write=0\n', '/dev/shm write=0\n']);
    for (const t of ['/tmp', '/root', '/etc/hostname']) expect(seen).toContain(`${t} write=${rootWrite}\n`);
    expect(mounts.some((l) => l.startsWith(`/ ${readonly ? 'ro' : 'rw'},`))).toBe(true);
  });
});

describe('differential: root.path relative to the bundle', () => {
  const CASES: [string, string | ((b: Bundle) => string)][] = [
    ['a plain name', 'rootfs'],
    ['a nested path', 'sub/dir/rootfs'],
    ['"./" and a trailing slash', './rootfs2/'],
    ['a path through ".." that stays inside', 'sub/../rootfs3'],
    ['an absolute path', (b) => b.rootfs],
  ];

  test.each(CASES)('%s', (_what, rootPath) => {
    const id = uniqueId('paths-rootpath');
    const seen: Record<string, string> = {};
    for (const rt of RUNTIMES.map((n) => sb.runtime(n))) {
      const b = sb.bundle({
        args: sh(`cat /${ROOTFS_MARKER}; ls /; echo '${MOUNTINFO_MARK}'; cat /proc/self/mountinfo`),
        edit: (s) => void (typeof rootPath === 'string' && (s.root.path = rootPath)),
      }, `bundle-${rt.name}`);
      if (typeof rootPath !== 'string') {
        b.spec.root.path = rootPath(b);
        fs.writeFileSync(b.configPath, JSON.stringify(b.spec));
      }
      sb.track(rt, id);
      ok(create(rt, id, b.dir));
      // state reports the rootfs as an absolute path under the bundle, in both runtimes.
      expect(path.relative(b.dir, state(rt, id).rootfs), rt.name).toBe(path.relative(b.dir, b.rootfs));
      ok(del(rt, id, true));
      const r = run(rt, ['run', '--bundle', b.dir, id]);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout, explain(r)).toMatch(/^inside\n/);
      const { seen: s, mounts } = split(r);
      seen[rt.name] = `${s}${mounts.join('\n')}`;
    }
    expect(seen.ocirun).toBe(seen.runc);
  });
});
