// v1 blkio controller: weights (blkio.weight, or blkio.bfq.weight when only BFQ offers them), leaf weights,
// per-device weights and the four throttles, one "major:minor value" line per device.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxThrottleDevice } from '../../oci';
import { R, num, set, writeValue, type Controller } from './fs';

const F = `${R}.blockIO`;
const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
] as const;

export const blkio: Controller = {
  name: 'blkio',
  requested(r) {
    const b = r.blockIO ?? {};
    const out: string[] = [];
    if (set(b.weight)) out.push(`${F}.weight`);
    if (set(b.leafWeight)) out.push(`${F}.leafWeight`);
    if (b.weightDevice?.length) out.push(`${F}.weightDevice`);
    for (const [k] of THROTTLES) if (b[k]?.length) out.push(`${F}.${k}`);
    return out;
  },
  set(dir, r) {
    const b = r.blockIO;
    if (!b) return;
    const cfq = fs.existsSync(path.join(dir, 'blkio.weight'));
    const weight = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
    const weightDevice = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
    if (set(b.weight)) writeValue(dir, weight, num(b.weight), `${F}.weight`);
    if (set(b.leafWeight)) writeValue(dir, 'blkio.leaf_weight', num(b.leafWeight), `${F}.leafWeight`);
    (b.weightDevice ?? []).forEach((d, i) => {
      if (set(d.weight)) writeValue(dir, weightDevice, `${d.major}:${d.minor} ${num(d.weight)}`, `${F}.weightDevice[${i}].weight`);
      if (set(d.leafWeight)) writeValue(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${num(d.leafWeight)}`, `${F}.weightDevice[${i}].leafWeight`);
    });
    for (const [k, file] of THROTTLES) {
      (b[k] ?? []).forEach((d: LinuxThrottleDevice, i: number) => writeValue(dir, file, `${d.major}:${d.minor} ${num(d.rate)}`, `${F}.${k}[${i}]`));
    }
  },
};
