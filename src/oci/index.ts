// Public API of the OCI layer: spec types, config.json parsing and
// validation, the `spec` template and the constant tables behind them.

export type * from './spec';
export { ConfigError } from './errors';
export { parseConfig, parseProcess } from './parse';
export { validateSpec, validateProcess } from './validate';
export { parseJson, lineColumn } from './json';
export { OCI_VERSION, specTemplate, type SpecTemplateOptions } from './defaults';
export { CAPABILITIES, CAPABILITY_NAMES, CAP_LAST_CAP, capabilityNumber } from './capabilities';
export { RLIMITS, rlimitNumber } from './rlimits';
export {
  NAMESPACE_TYPES,
  SECCOMP_ACTIONS,
  SECCOMP_OPERATORS,
  SECCOMP_FLAGS,
  SECCOMP_ARCHES,
  SCHEDULER_POLICIES,
  SCHEDULER_FLAGS,
  IOPRIO_CLASSES,
  PERSONALITY_DOMAINS,
  MEMORY_POLICY_MODES,
  MEMORY_POLICY_FLAGS,
  ROOTFS_PROPAGATIONS,
  TIME_OFFSET_CLOCKS,
  DEVICE_TYPES,
  CGROUP_DEVICE_TYPES,
  HOOK_NAMES,
} from './enums';
