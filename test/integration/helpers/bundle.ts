// OCI bundles for integration tests: runc 1.1.5's `runc spec` output as the template,
// with per-test edits, written next to a private busybox rootfs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNC_BIN, scratchBase } from './env';
import { copyRootfs } from './rootfs';

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciNamespace {
  type: string;
  path?: string;
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  umask?: number;
}

/** The parts of config.json the tests read or edit; everything else passes through untouched. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal?: boolean;
    user: OciUser;
    args: string[];
    env?: string[];
    cwd: string;
    capabilities?: Record<string, string[]>;
    rlimits?: { type: string; hard: number; soft: number }[];
    noNewPrivileges?: boolean;
    [key: string]: unknown;
  };
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: OciNamespace[];
    maskedPaths?: string[];
    readonlyPaths?: string[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

let cachedTemplate: string | undefined;

/**
 * runc's own default spec, taken from the installed oracle rather than written out by
 * hand, so the baseline both runtimes get is exactly what runc users start from.
 */
export function runcSpecTemplate(): OciSpec {
  if (cachedTemplate === undefined) {
    const dir = fs.mkdtempSync(path.join(scratchBase(), 'spec-'));
    try {
      const r = spawnSync(RUNC_BIN, ['spec', '--bundle', dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`runc spec failed (${r.status}): ${r.stderr}`);
      cachedTemplate = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const spec = JSON.parse(cachedTemplate) as OciSpec;
  // Tests never have a tty; a terminal:true spec would need a --console-socket.
  spec.process.terminal = false;
  return spec;
}

export interface BundleOptions {
  args?: string[];
  hostname?: string;
  readonly?: boolean;
  cwd?: string;
  env?: string[];
  user?: OciUser;
  namespaces?: OciNamespace[];
  /** Appended to the template's mounts. */
  extraMounts?: OciMount[];
  annotations?: Record<string, string>;
  /** Last word on the spec, for edits the fields above do not cover. */
  edit?: (spec: OciSpec) => void;
  /** 'copy' (default): private rootfs copy; 'none': no rootfs directory at all. */
  rootfs?: 'copy' | 'none';
  /** Written verbatim as config.json instead of the edited template (malformed-input tests). */
  rawConfig?: string;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  configPath: string;
  spec: OciSpec;
}

export function makeBundle(dir: string, opts: BundleOptions = {}): Bundle {
  fs.mkdirSync(dir, { recursive: true });
  const spec = runcSpecTemplate();
  if (opts.args !== undefined) spec.process.args = opts.args;
  if (opts.hostname !== undefined) spec.hostname = opts.hostname;
  if (opts.readonly !== undefined) spec.root.readonly = opts.readonly;
  if (opts.cwd !== undefined) spec.process.cwd = opts.cwd;
  if (opts.env !== undefined) spec.process.env = opts.env;
  if (opts.user !== undefined) spec.process.user = opts.user;
  if (opts.namespaces !== undefined) {
    spec.linux = spec.linux ?? {};
    spec.linux.namespaces = opts.namespaces;
  }
  if (opts.extraMounts !== undefined) spec.mounts = [...(spec.mounts ?? []), ...opts.extraMounts];
  if (opts.annotations !== undefined) spec.annotations = opts.annotations;
  opts.edit?.(spec);

  const rootfs = path.resolve(dir, spec.root.path);
  if ((opts.rootfs ?? 'copy') === 'copy') copyRootfs(rootfs);
  const configPath = path.join(dir, 'config.json');
  fs.writeFileSync(configPath, opts.rawConfig ?? `${JSON.stringify(spec, null, '\t')}\n`);
  return { dir, rootfs, configPath, spec };
}
