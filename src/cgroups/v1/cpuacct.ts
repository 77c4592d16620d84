// v1 cpuacct controller: accounting only, nothing to write; joined so that stats see the container's usage.
import type { Controller } from './fs';

export const cpuacct: Controller = { name: 'cpuacct', requested: () => [], set: () => {} };
