// Turns a containers/common (podman, Docker format) seccomp profile into the OCI linux.seccomp object an
// engine would hand the runtime, the way containers/common's setupSeccomp does for one arch and capability set.
import * as fs from 'node:fs';
import type { Arch, LinuxSeccomp, LinuxSyscall } from '../../../src/oci/spec';

/** Debian's golang-github-containers-common ships podman's default profile here. */
export const PODMAN_PROFILE = '/usr/share/containers/seccomp.json';

/** containers.conf's default_capabilities: what podman grants, so what the profile's caps filters see. */
export const PODMAN_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface DockerSyscall extends Omit<LinuxSyscall, 'args'> {
  name?: string;
  args?: LinuxSyscall['args'] | null;
  errno?: string;
  comment?: string;
  includes?: Filter;
  excludes?: Filter;
}

interface DockerProfile extends Omit<LinuxSeccomp, 'syscalls' | 'architectures'> {
  defaultErrno?: string;
  architectures?: Arch[];
  archMap?: { architecture: Arch; subArchitectures?: Arch[] }[];
  syscalls?: DockerSyscall[];
}

/** Go's GOARCH names, which the profile's includes/excludes use, for the arches ocirun compiles. */
const GOARCH: Record<string, string> = {
  SCMP_ARCH_X86_64: 'amd64',
  SCMP_ARCH_X86: '386',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'arm64',
  SCMP_ARCH_ARM: 'arm',
};

export interface PodmanOptions {
  /** The native arch; its archMap entry adds the sub-arches (x86 and x32 for x86_64). */
  arch?: Arch;
  caps?: string[];
  /** Kernel version for includes.minKernel, "major.minor". */
  kernel?: string;
}

function kernelAtLeast(have: string, want: string): boolean {
  const [a, b] = have.split('.').map(Number);
  const [c, d] = want.split('.').map(Number);
  return a > c || (a === c && b >= (d ?? 0));
}

export function podmanSeccomp(file = PODMAN_PROFILE, opts: PodmanOptions = {}): LinuxSeccomp {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as DockerProfile;
  const arch = opts.arch ?? 'SCMP_ARCH_X86_64';
  const goarch = GOARCH[arch];
  const caps = new Set(opts.caps ?? PODMAN_DEFAULT_CAPS);
  const kernel = opts.kernel ?? '6.1';

  const mapped = (profile.archMap ?? []).find((m) => m.architecture === arch);
  const architectures = mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : (profile.architectures ?? []);

  const syscalls: LinuxSyscall[] = [];
  for (const s of profile.syscalls ?? []) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(goarch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    if (exc.arches?.includes(goarch)) continue;
    if (exc.caps?.some((c) => caps.has(c))) continue;
    const names = s.names ?? (s.name ? [s.name] : []);
    const call: LinuxSyscall = { names, action: s.action };
    if (s.errnoRet !== undefined) call.errnoRet = s.errnoRet;
    if (s.args && s.args.length > 0) call.args = s.args;
    syscalls.push(call);
  }
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags) out.flags = profile.flags;
  return out;
}
