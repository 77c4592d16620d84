// A user-namespaced container (root mapped to host uid/gid 100000..165535), run under runc
// and ocirun: the mappings, the identity and the /dev the process sees must match runc's.
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, OciSpec } from './helpers/bundle';
import { OCIRUN_BIN, RUNC_BIN, scratchBase, uniqueId, requireBinaries } from './helpers/env';
import { normaliseLsDates } from './helpers/normalise';
import { explain, ok, run, type RunResult, type RuntimeName } from './helpers/runtime';
import { consoleListener } from './helpers/pty';
import { useSandbox } from './helpers/sandbox';

const sb = useSandbox();

beforeAll(() => requireBinaries(RUNC_BIN, OCIRUN_BIN));

const HOST_BASE = 100000;
const MAPPING = [{ containerID: 0, hostID: HOST_BASE, size: 65536 }];
const SCRIPT = 'cat /proc/self/uid_map; cat /proc/self/gid_map; id; ls -ln /dev';

function userns(spec: OciSpec): void {
  spec.linux!.namespaces = [...spec.linux!.namespaces!, { type: 'user' }];
  spec.linux!.uidMappings = MAPPING;
  spec.linux!.gidMappings = MAPPING;
}

/**
 * Container root is host uid 100000, which has no rights over host-root-owned files:
 * the rootfs must belong to it, and every directory above it must be searchable
 * (mkdtemp makes the scratch dirs 0700).
 */
function usernsBundle(name: RuntimeName, args = ['sh', '-c', SCRIPT]): Bundle {
  const b = sb.bundle({ args, edit: userns }, `bundle-${name}`);
  const r = spawnSync('chown', ['-R', `${HOST_BASE}:${HOST_BASE}`, b.rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown failed: ${r.stderr}`);
  for (let d = b.dir; d.startsWith(scratchBase()); d = path.dirname(d)) fs.chmodSync(d, 0o755);
  return b;
}

function runUserns(name: RuntimeName): RunResult {
  const rt = sb.runtime(name);
  const id = sb.track(rt, uniqueId(`fnd-userns-${name}`));
  return run(rt, ['run', '--bundle', usernsBundle(name).dir, id]);
}

/** What runc 1.1.5 prints for SCRIPT, up to the dates; kept literal so a runc regression shows too. */
function expectRuncShape(r: RunResult): void {
  expect(r.code, explain(r)).toBe(0);
  expect(r.stdout, explain(r)).toMatch(/^ +0 +100000 +65536\n +0 +100000 +65536\nuid=0\(root\) gid=0\(root\)\n/);
  // Host devices bind-mounted or created by host root show as the overflow id inside.
  expect(r.stdout, explain(r)).toMatch(/^crw-rw-rw- +1 65534 +65534 +1, +3 .* null$/m);
}

describe('user namespace', () => {
  test('runc: root inside is host uid 100000', () => {
    // The oracle's own behaviour on this host: if this fails the environment, not ocirun, is the problem.
    expectRuncShape(runUserns('runc'));
  });

  // Regression (was a bug): ocirun cannot start a user-namespaced container: "ocirun run failed: unable to start
  // container process: /proc/self/fd/6: cannot open shared object file: Permission denied".
  // The init dlopen()s the koffi addon from the inherited O_TMPFILE fd, created mode 0500 by
  // host root; inside the user namespace host uid 0 is unmapped, so container root gets only
  // the "other" permission bits (none) and the dlopen fails with EACCES.
  test('ocirun: uid_map, gid_map, id and ls -ln /dev match runc', () => {
    const runc = runUserns('runc');
    expectRuncShape(runc);
    const oci = runUserns('ocirun');
    expect(oci.code, explain(oci)).toBe(0);
    expect(normaliseLsDates(oci.stdout)).toBe(normaliseLsDates(runc.stdout));
  });

  // exec joins the user namespace first (the stub), then the rest, and its final stage runs as container root:
  // the pty it opens in the container's devpts is its own, so chowning it to the user works as under runc.
  test('exec: identity, and a pty owned by the exec user, match runc', async () => {
    const seen = {} as Record<RuntimeName, string[]>;
    for (const name of ['runc', 'ocirun'] as const) {
      const rt = sb.runtime(name);
      const id = sb.track(rt, uniqueId(`fnd-userns-exec-${name}`));
      ok(run(rt, ['run', '-d', '--bundle', usernsBundle(name, ['sleep', '1000']).dir, id]));
      try {
        const plain = ok(run(rt, ['exec', '-u', '1000:1000', id, 'sh', '-c', 'id; grep -E "^Cap(Eff|Bnd)" /proc/self/status; echo HOME=$HOME']));
        const sock = path.join(sb.dir(`sock-${name}`), 'console.sock');
        const listener = consoleListener(sock, 1, '');
        try {
          ok(run(rt, ['exec', '-d', '-t', '--console-socket', sock, '-u', '1000:1000', id, 'sh', '-c', 'stat -c "%u %g %a" $(tty)']));
          const [got] = await listener.done;
          seen[name] = [plain.stdout, got.output ?? ''];
        } finally {
          await listener.kill();
        }
      } finally {
        ok(run(rt, ['delete', '-f', id]));
      }
    }
    expect(seen.ocirun[0]).toContain('uid=1000');
    expect(seen.ocirun[1]).toMatch(/^1000 5 620\r\n$/);
    expect(seen.ocirun).toEqual(seen.runc);
  });
});
