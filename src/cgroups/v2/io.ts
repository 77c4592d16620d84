// linux.resources.blockIO on cgroup2: io.bfq.weight when BFQ is there (else io.weight, converted),
// per-device BFQ weights, and the four throttles as io.max lines "MAJ:MIN rbps=N" etc., one write each.
import type { LinuxBlockIO, LinuxThrottleDevice } from '../../oci';
import type { ApplyContext } from './context';
import { exists, readOptional, RESOURCES } from './files';

const F = `${RESOURCES}.blockIO`;

// runc's ConvertBlkIOToIOWeightValue: [10, 1000] linearly onto [1, 10000]; 0 is unset.
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

const THROTTLES: [keyof LinuxBlockIO, string][] = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
];

export function setIo(ctx: ApplyContext, io: LinuxBlockIO | undefined): void {
  if (!io) return;
  const bfq = exists(ctx.dir, 'io.bfq.weight');
  // Per-device weights need BFQ with per-device support (kernel 5.4+): its file then reads
  // "default N" lines rather than a bare number. Elsewhere runc ignores them, and so do we (with a warning).
  const perDevice = bfq && !/^\s*\d+\s*$/.test(readOptional(ctx.dir, 'io.bfq.weight') ?? '');
  if (io.weight) {
    // BFQ takes the v1 range as is; io.weight needs the conversion.
    if (bfq) ctx.write('io.bfq.weight', String(io.weight), `${F}.weight`);
    else ctx.write('io.weight', String(blkioWeightToIoWeight(io.weight)), `${F}.weight`);
  }
  if (io.leafWeight !== undefined) ctx.warn(`${F}.leafWeight: cgroup v2 has no leaf weights; ignored`);
  (io.weightDevice ?? []).forEach((wd, i) => {
    if (wd.weight === undefined) return;
    if (!perDevice) {
      ctx.warn(`${F}.weightDevice[${i}]: per-device weights need the BFQ scheduler's io.bfq.weight; ignored`);
      return;
    }
    ctx.write('io.bfq.weight', `${wd.major}:${wd.minor} ${wd.weight}`, `${F}.weightDevice[${i}]`);
  });
  for (const [key, name] of THROTTLES) {
    ((io[key] as LinuxThrottleDevice[] | undefined) ?? []).forEach((td, i) => {
      ctx.write('io.max', `${td.major}:${td.minor} ${name}=${td.rate}`, `${F}.${key}[${i}]`);
    });
  }
}
