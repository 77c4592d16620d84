// The private containerd of ../containerd.ts with its CRI plugin on, configured the way a Kubernetes node runs a
// RuntimeClass handler `ocirun` (the runtime stanza is read from docs/kubernetes.md), everything else test-local.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupsOf, Containerd } from '../containerd';

const REPO = path.resolve(__dirname, '..', '..', '..');
export const KUBERNETES_DOC = path.join(REPO, 'docs', 'kubernetes.md');
/** The binary path the doc's stanza names; the test puts the runtime under test there instead. */
export const DOC_BINARY = '/usr/local/bin/ocirun';
/** The runtime root the doc's stanza gives the shim (it appends the namespace); the test's is under its temp dir. */
export const DOC_ROOT = '/run/containerd/ocirun';
const STANZA_MARK = '<!-- containerd-runtime-stanza: exercised by test/e2e/cri.test.ts -->';

/**
 * The ```toml block that follows the marker in docs/kubernetes.md, verbatim: the doc shows what the test runs.
 */
export function docRuntimeStanza(): string {
  const doc = fs.readFileSync(KUBERNETES_DOC, 'utf8');
  const at = doc.indexOf(STANZA_MARK);
  if (at < 0) throw new Error(`${KUBERNETES_DOC}: no ${STANZA_MARK}`);
  const m = /^```toml\n([\s\S]*?)^```$/m.exec(doc.slice(at));
  if (!m) throw new Error(`${KUBERNETES_DOC}: no toml block after the stanza marker`);
  return m[1];
}

export interface CriOptions {
  /** Image reference of the pod sandbox (pause) image, imported beforehand: CRI never pulls it. */
  sandboxImage: string;
  /** Top-level cgroup the test's pods use as their cgroup_parent (one name, no slashes); stop() removes it. */
  cgroupParent: string;
}

export class CriContainerd extends Containerd {
  // CRI works in containerd's k8s.io namespace; ctr and stop() follow it there.
  override readonly namespace = 'k8s.io';
  /** The runtime binary the handler's shim runs (replaces the doc's BinaryName); set before start(). */
  binary = '';

  constructor(private readonly opts: CriOptions) {
    super();
  }

  /** The handler stanza as written into the config: the doc's, with the test's binary and Root. */
  get stanza(): string {
    if (!this.binary) throw new Error('CriContainerd: set binary before start()');
    return handlerStanza(docRuntimeStanza(), this.binary, path.join(this.dir, 'ocirun'));
  }

  /** The shim's --root for the runtime: <Root>/<namespace>, test-local instead of /run/containerd/ocirun/k8s.io. */
  override get runtimeRoot(): string {
    return path.join(this.dir, 'ocirun', this.namespace);
  }

  override async stop(): Promise<void> {
    await super.stop();
    // The runtime removes each container's cgroup on delete; the shared parent it created stays, as on a node.
    for (const d of cgroupsOf(this.opts.cgroupParent)) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* busy or gone: reported by the test's own check */
      }
    }
  }

  protected override disabledPlugins(): string[] {
    return super.disabledPlugins().filter((p) => p !== 'io.containerd.grpc.v1.cri');
  }

  protected override extraConfig(): string[] {
    const cri = '[plugins."io.containerd.grpc.v1.cri"]';
    return [
      cri,
      `  sandbox_image = "${this.opts.sandboxImage}"`,
      // No CAP_SYS_RESOURCE here: the sandbox's -998 could not be written, so clamp to our own score.
      '  restrict_oom_score_adj = true',
      // Streaming (exec/attach/port-forward URLs) on loopback only, any free port.
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  enable_selinux = false',
      '  disable_apparmor = true',
      '  systemd_cgroup = false',
      // Pods use the node's network: no CNI runs, but the plugin still watches (and creates) its conf dir.
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  bin_dir = "${path.join(this.dir, 'cni', 'bin')}"`,
      `  conf_dir = "${path.join(this.dir, 'cni', 'net.d')}"`,
      '[plugins."io.containerd.grpc.v1.cri".containerd]',
      '  snapshotter = "overlayfs"',
      // As on a node: the default handler is plain runc (unused here), ocirun is the RuntimeClass handler.
      '  default_runtime_name = "runc"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '  runtime_type = "io.containerd.runc.v2"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      `  Root = "${path.join(this.dir, 'runc')}"`,
      this.stanza,
    ];
  }
}

/**
 * The doc's stanza with the binary under test and a test-local Root in place of the doc's two paths, nothing
 * else changed. Fails if the stanza no longer sets each of them exactly once.
 */
export function handlerStanza(stanza: string, binary: string, root: string): string {
  let out = stanza;
  for (const [key, doc, ours] of [['BinaryName', DOC_BINARY, binary], ['Root', DOC_ROOT, root]]) {
    const line = `${key} = "${doc}"`;
    if (out.split(line).length !== 2) throw new Error(`the runtime stanza must set ${line} exactly once:\n${stanza}`);
    out = out.replace(line, `${key} = "${ours}"`);
  }
  return out;
}
