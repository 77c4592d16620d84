// Picks the cgroup driver, as youki's libcgroups: v1 on a v1 or hybrid host, v2 on a pure cgroup2 host;
// and resolves where a new container's cgroups go (cgroupsPath, or its systemd form mapped to cgroupfs).
import type { Spec } from '../oci';
import { warn } from '../log';
import type { CgroupDriver } from './types';
import { hierarchyKey, hostHierarchies, type Hierarchy } from './hierarchy';
import { ownCgroups, parseSystemdPath, resolvePaths, systemdCgroupPath } from './paths';
import { V1Driver } from './v1';
import { V2Driver } from './v2';

export type { CgroupDriver, CgroupStats } from './types';

// A pure v2 host has one hierarchy, the unified one; a hybrid host's paths name v1 controllers too.
export const isUnifiedOnly = (paths: Record<string, string>): boolean => Object.keys(paths).length === 1 && paths[''] !== undefined;

// The driver for a container's stored paths (what state.json keeps).
export function cgroupDriver(paths: Record<string, string>): CgroupDriver {
  return isUnifiedOnly(paths) ? new V2Driver(paths['']) : new V1Driver(paths);
}

export interface PlaceOptions {
  systemdCgroup?: boolean;
  hierarchies?: Hierarchy[];
  own?: Map<string, string>;
}

// The cgroupsPath as the cgroupfs driver takes it. --systemd-cgroup's "slice:prefix:name" is validated
// as runc does, then, there being no systemd driver, placed where systemd would put the unit (its
// slice path, from the root of every hierarchy), with a warning.
export function cgroupfsPath(spec: Spec, id: string, systemdCgroup: boolean): string | undefined {
  const p = spec.linux?.cgroupsPath;
  if (!systemdCgroup) return p;
  const abs = systemdCgroupPath(parseSystemdPath(p, id, 'ocirun'));
  warn(`systemd cgroup driver not available: using the cgroupfs path ${abs} for cgroupsPath ${JSON.stringify(p ?? '')}`);
  return abs;
}

export function driverForContainer(spec: Spec, id: string, o: PlaceOptions = {}): CgroupDriver {
  const hierarchies = o.hierarchies ?? hostHierarchies();
  const paths = resolvePaths(cgroupfsPath(spec, id, !!o.systemdCgroup), id, hierarchies, o.own ?? ownCgroups());
  // A hybrid host: the v1 driver also takes the empty cgroup2 tree (joined and removed, no resources).
  if (hierarchies.length === 1 && hierarchies[0].unified) return new V2Driver(paths[hierarchyKey(hierarchies[0])]);
  return new V1Driver(paths);
}
