// Converts containers-common's seccomp.json (docker's format: archMap, includes/excludes) to an OCI
// linux.seccomp object for amd64, as podman does for a container with the given capabilities.
import { readFileSync } from 'node:fs';
import type { LinuxSeccomp, LinuxSyscall } from '../../../src/oci/spec';

export const CONTAINERS_SECCOMP = '/usr/share/containers/seccomp.json';

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerProfile {
  defaultAction: LinuxSeccomp['defaultAction'];
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls: (LinuxSyscall & { includes?: Filter; excludes?: Filter })[];
}

export function ociProfile(caps: string[], file = CONTAINERS_SECCOMP): LinuxSeccomp {
  const d = JSON.parse(readFileSync(file, 'utf8')) as DockerProfile;
  const arch = 'amd64';
  const m = (d.archMap ?? []).find((a) => a.architecture === 'SCMP_ARCH_X86_64');
  const syscalls: LinuxSyscall[] = [];
  for (const s of d.syscalls) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (exc.arches?.includes(arch)) continue;
    if (exc.caps?.some((c) => caps.includes(c))) continue;
    const out: LinuxSyscall = { names: s.names, action: s.action };
    if (s.errnoRet !== undefined) out.errnoRet = s.errnoRet;
    if (s.args?.length) out.args = s.args;
    syscalls.push(out);
  }
  const p: LinuxSeccomp = {
    defaultAction: d.defaultAction,
    architectures: m ? ([m.architecture, ...(m.subArchitectures ?? [])] as LinuxSeccomp['architectures']) : undefined,
    syscalls,
  };
  if (d.defaultErrnoRet !== undefined) p.defaultErrnoRet = d.defaultErrnoRet;
  return p;
}
