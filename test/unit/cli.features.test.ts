// Tests for `ocirun features` (src/cli/features.ts): the document's shape, and that every name it lists is
// really accepted by the code that consumes it (mount option parser, config validator, seccomp compiler).
import { describe, expect, it } from 'vitest';
import { features } from '../../src/cli/features';
import { parseMountOptions } from '../../src/init/mountopts';
import { NS_FLAGS } from '../../src/container/namespaces';
import { capabilityNumber } from '../../src/oci/capabilities';
import { specTemplate, validateSpec } from '../../src/oci';
import { compileSeccomp } from '../../src/seccomp/compile';
import type { LinuxSeccomp, Spec } from '../../src/oci/spec';

const f = features('9.9.9', 'abc123') as any;
const linux = f.linux;

function specWith(patch: (s: Spec) => void): Spec {
  const s = specTemplate({ rootless: false });
  patch(s);
  return validateSpec(JSON.parse(JSON.stringify(s)));
}

describe('features document', () => {
  it('has runc\'s top-level and linux keys in runc\'s order, then the newer spec keys', () => {
    expect(Object.keys(f)).toEqual(['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations']);
    expect(Object.keys(linux)).toEqual([
      'namespaces', 'capabilities', 'cgroup', 'seccomp', 'apparmor', 'selinux',
      'intelRdt', 'mountExtensions', 'netDevices',
    ]);
    expect(Object.keys(linux.cgroup)).toEqual(['v1', 'v2', 'systemd', 'systemdUser', 'rdma']);
    expect(Object.keys(linux.seccomp)).toEqual(['enabled', 'actions', 'operators', 'archs', 'knownFlags', 'supportedFlags']);
  });

  it('states the versions and what is and is not implemented', () => {
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.ociVersionMax).toBe('1.3.0');
    expect(linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
    expect(linux.intelRdt).toEqual({ enabled: false });
    expect(linux.mountExtensions).toEqual({ idmap: { enabled: true } });
    expect(f.annotations).toEqual({
      'io.github.ocirun.checkpoint.enabled': 'false',
      'io.github.ocirun.commit': 'abc123',
      'io.github.ocirun.version': '9.9.9',
    });
    // No runc or libseccomp keys: they would describe a runtime that is not running.
    expect(Object.keys(f.annotations).filter((k) => !k.startsWith('io.github.ocirun.'))).toEqual([]);
  });

  it('lists the spec\'s hooks in spec order', () => {
    expect(f.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });

  it('sorts the lists runc sorts', () => {
    for (const l of [f.mountOptions, linux.namespaces, linux.seccomp.actions, linux.seccomp.operators, linux.seccomp.archs]) {
      expect(l).toEqual([...l].sort());
      expect(new Set(l).size).toBe(l.length);
    }
  });
});

describe('every listed name is accepted', () => {
  it('mount options: each has a meaning in the parser, none is passed on as filesystem data', () => {
    expect(f.mountOptions.length).toBeGreaterThan(50);
    for (const o of f.mountOptions) expect(parseMountOptions([o]).data, o).toEqual([]);
    // The parser's data fallback is real, so the check above can fail.
    expect(parseMountOptions(['acl']).data).toEqual(['acl']);
    expect(f.mountOptions).not.toContain('acl');
  });

  it('namespaces: every one has a clone flag and validates', () => {
    expect(linux.namespaces).toEqual([...Object.keys(NS_FLAGS)].sort());
    expect(linux.namespaces).toContain('time');
    const s = specWith((x) => {
      x.linux!.namespaces = linux.namespaces.map((type: string) => ({ type }));
      x.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
      x.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
    });
    expect(s.linux!.namespaces!.length).toBe(linux.namespaces.length);
  });

  it('capabilities: numbered 0..n in kernel order, all accepted by the validator', () => {
    linux.capabilities.forEach((c: string, i: number) => expect(capabilityNumber(c), c).toBe(i));
    expect(linux.capabilities.at(-1)).toBe('CAP_CHECKPOINT_RESTORE');
    specWith((x) => {
      x.process!.capabilities = { bounding: linux.capabilities, effective: linux.capabilities, permitted: linux.capabilities };
    });
  });

  it('hooks: every name validates as a hook list', () => {
    const hooks = Object.fromEntries(f.hooks.map((h: string) => [h, [{ path: '/bin/true' }]]));
    expect(Object.keys(specWith((x) => void (x.hooks = hooks)).hooks!)).toEqual(f.hooks);
    // Unknown keys are ignored (the spec's extensibility rule), so a non-hook name would not be caught here:
    // check the names against the spec's list instead.
    expect(new Set(f.hooks)).toEqual(new Set(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']));
  });

  const seccomp = (s: Partial<LinuxSeccomp>): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', ...s }) as LinuxSeccomp;

  it('seccomp actions: each validates and compiles, as a rule and (but NOTIFY, as in runc) as the default', () => {
    for (const action of linux.seccomp.actions) {
      const notify = action === 'SCMP_ACT_NOTIFY';
      const s = seccomp({
        defaultAction: notify ? 'SCMP_ACT_ALLOW' : action,
        ...(notify ? { listenerPath: '/run/agent.sock' } : {}),
        syscalls: [{ names: ['getpid'], action }],
      });
      specWith((x) => void (x.linux!.seccomp = s));
      expect(compileSeccomp(s).filter.length, action).toBeGreaterThan(0);
    }
  });

  it('seccomp operators: each validates and compiles', () => {
    for (const op of linux.seccomp.operators) {
      const s = seccomp({ syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, valueTwo: 1, op }] }] });
      specWith((x) => void (x.linux!.seccomp = s));
      expect(compileSeccomp(s).filter.length, op).toBeGreaterThan(0);
    }
  });

  it('seccomp archs: each adds a block to the filter (the others are validated but ignored)', () => {
    const base = compileSeccomp(seccomp({ syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] })).filter.length;
    for (const arch of linux.seccomp.archs) {
      if (arch === 'SCMP_ARCH_X86_64') continue; // the host's own, always present
      const s = seccomp({ architectures: [arch], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] });
      specWith((x) => void (x.linux!.seccomp = s));
      expect(compileSeccomp(s).filter.length, arch).toBeGreaterThan(base);
    }
    expect(linux.seccomp.archs).not.toContain('SCMP_ARCH_MIPS');
  });

  it('seccomp flags: known ones validate, supported ones compile to a flag bit', () => {
    expect(linux.seccomp.supportedFlags.every((x: string) => linux.seccomp.knownFlags.includes(x))).toBe(true);
    for (const flag of linux.seccomp.knownFlags) specWith((x) => void (x.linux!.seccomp = seccomp({ flags: [flag] })));
    for (const flag of linux.seccomp.supportedFlags) expect(compileSeccomp(seccomp({ flags: [flag] })).flags, flag).not.toBe(0);
  });
});
