// A busybox OCI image made locally, without any registry: Debian's busybox-static with its applet links and
// minimal /etc/passwd and /etc/group, one uncompressed layer, written as one tarball that is both an OCI image layout
// (oci-layout, index.json: `ctr import`) and a docker-archive (manifest.json: `docker load` of 20.10).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const IMAGE_NAME = 'docker.io/library/ocirun-busybox:latest';

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function addBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const hex = sha256(data);
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Writes <dir>/image.tar and returns its path. */
export function buildBusyboxImage(dir: string): string {
  const tree = path.join(dir, 'layer');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(tree, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(tree, 'bin', 'busybox'));
  fs.chmodSync(path.join(tree, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) fs.symlinkSync('busybox', path.join(tree, 'bin', a));
  fs.chmodSync(path.join(tree, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(tree, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(tree, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');

  return writeImageLayout(dir, 'image', tree, IMAGE_NAME, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh'],
    WorkingDir: '/',
  });
}

// --- The pause image for CRI pod sandboxes: Debian's static catatonit alone, run as `/catatonit -P` (pause mode:
// no child, reaps what the pod's shared pid namespace leaves it, exits on SIGTERM/SIGINT).

export const PAUSE_IMAGE_NAME = 'docker.io/library/ocirun-pause:latest';

/** Writes <dir>/pause.tar (an OCI image layout with one layer holding /catatonit) and returns its path. */
export function buildPauseImage(dir: string): string {
  const tree = path.join(dir, 'pause-layer');
  fs.mkdirSync(tree, { recursive: true });
  fs.copyFileSync('/usr/bin/catatonit', path.join(tree, 'catatonit'));
  fs.chmodSync(path.join(tree, 'catatonit'), 0o755);
  return writeImageLayout(dir, 'pause', tree, PAUSE_IMAGE_NAME, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Entrypoint: ['/catatonit', '-P'],
    WorkingDir: '/',
  });
}

/** One-layer image of `tree` named `name`, tarred to <dir>/<stem>.tar: an OCI image layout (`ctr images import`,
 * `podman load`) that is also a docker-archive (`docker load`). */
export function writeImageLayout(dir: string, stem: string, tree: string, name: string, config: Record<string, unknown>): string {
  const layerTar = path.join(dir, `${stem}-layer.tar`);
  execFileSync('tar', ['-C', tree, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-cf', layerTar, '.']);
  const layout = path.join(dir, `${stem}-layout`);
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const layer = addBlob(layout, fs.readFileSync(layerTar));
  const imageConfig = addBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config,
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = addBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  const tag = name.slice(name.lastIndexOf(':') + 1);
  fs.writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  // docker load reads manifest.json first and takes its paths as they are, so it can share the OCI blobs. (No legacy
  // `repositories` file: it names v1 layer directories, which this archive does not have, and 20.10 ignores it here.)
  const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  fs.writeFileSync(
    path.join(layout, 'manifest.json'),
    JSON.stringify([{ Config: blobPath(imageConfig.digest), RepoTags: [name], Layers: [blobPath(layer.digest)] }]),
  );
  const out = path.join(dir, `${stem}.tar`);
  execFileSync('tar', ['-C', layout, '-cf', out, 'oci-layout', 'index.json', 'manifest.json', 'blobs']);
  return out;
}
