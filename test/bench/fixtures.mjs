// Bundles the benchmark runs: one read-only busybox rootfs shared by every bundle and runtime, and
// config.json files from `runc spec` that differ only in process.args.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Same layout the integration tests use: Debian's static busybox with every applet linked. */
function buildRootfs(dir) {
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error('/bin/busybox --list failed (apt install busybox-static)');
  for (const applet of list.stdout.split('\n')) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/**
 * The bundles under dir: `true` (/bin/true), `sleep` (a long sleep, for running containers) and `busy`
 * (a shell that starts busyCount sleeping children, for ps and events --stats). The rootfs is read-only so
 * every runtime and every concurrent container can share it unchanged.
 */
export function makeBundles(dir, runcBin, busyCount) {
  const rootfs = path.join(dir, 'rootfs');
  buildRootfs(rootfs);
  const make = (name, args) => {
    const bundle = path.join(dir, name);
    fs.mkdirSync(bundle, { recursive: true });
    const r = spawnSync(runcBin, ['spec', '--bundle', bundle], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
    const configPath = path.join(bundle, 'config.json');
    const spec = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    spec.process.terminal = false;
    spec.process.args = args;
    spec.root = { path: rootfs, readonly: true };
    fs.writeFileSync(configPath, JSON.stringify(spec, null, '\t'));
    return bundle;
  };
  return {
    rootfs,
    true: make('true', ['/bin/true']),
    sleep: make('sleep', ['/bin/sleep', '1000000']),
    busy: make('busy', [
      '/bin/sh',
      '-c',
      `i=0; while [ $i -lt ${busyCount} ]; do sleep 1000000 & i=$((i+1)); done; exec sleep 1000000`,
    ]),
  };
}
