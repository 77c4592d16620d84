// Busybox root filesystem for integration bundles: built once per test process from
// the host's static busybox, then copied into each bundle that needs one.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, scratchBase } from './env';

/** A file at the rootfs top that lets a container prove its cwd/root is really inside the rootfs. */
export const ROOTFS_MARKER = 'ocirun-it-rootfs-marker';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

const GROUP = [
  'root:x:0:',
  'wheel:x:10:root,user',
  'user:x:1000:',
  'nogroup:x:65534:',
  '',
].join('\n');

let template: string | undefined;

function buildTemplate(dir: string): void {
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/user']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const list = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`busybox --list failed: ${list.stderr}`);
  for (const applet of list.stdout.split('\n')) {
    // "[" and "[[" are applets too; only a name with a slash could escape bin/.
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  // Some scripts and runtimes expect /usr/bin and /sbin; pointing them at bin keeps PATH lookups working.
  fs.mkdirSync(path.join(dir, 'usr'));
  fs.symlinkSync('../bin', path.join(dir, 'usr', 'bin'));
  fs.symlinkSync('bin', path.join(dir, 'sbin'));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), PASSWD);
  fs.writeFileSync(path.join(dir, 'etc', 'group'), GROUP);
  fs.writeFileSync(path.join(dir, 'etc', 'hostname'), 'rootfs\n');
  fs.chownSync(path.join(dir, 'home', 'user'), 1000, 1000);
  fs.writeFileSync(path.join(dir, ROOTFS_MARKER), 'inside\n');
}

/** Path of the process-wide template rootfs; never hand it to a runtime directly. */
export function rootfsTemplate(): string {
  if (template === undefined) {
    const dir = path.join(scratchBase(), 'rootfs-template');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    buildTemplate(dir);
    template = dir;
  }
  return template;
}

/**
 * Copies the template to dest. A private copy per bundle keeps a runtime that
 * wrongly writes into the rootfs (mountpoints, a broken read-only remount) from
 * changing what the next runtime under comparison sees.
 */
export function copyRootfs(dest: string): void {
  const src = rootfsTemplate();
  // root.path may name a nested directory of the bundle.
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const r = spawnSync('cp', ['-a', '--', src, dest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${src} ${dest} failed: ${r.stderr}`);
}
