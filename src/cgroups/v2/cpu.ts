// linux.resources.cpu on cgroup2: cpu.weight (from shares), cpu.max (quota/period), cpu.max.burst,
// cpu.idle; the realtime fields have no cgroup2 file and are ignored with a warning.
import type { LinuxCPU } from '../../oci';
import type { ApplyContext } from './context';
import { CgroupWriteError, RESOURCES } from './files';

const F = `${RESOURCES}.cpu`;

// runc 1.1's ConvertCPUSharesToCgroupV2Value: maps [2, 262144] linearly onto [1, 10000]; 0 is unset.
// Newer runc (1.3) uses a log-scale fit that maps the v1 default 1024 to the v2 default 100; we keep
// 1.1's so that values match the reference runtime. Out-of-range shares are clamped first, as the
// kernel clamps cpu.shares (runc's unsigned arithmetic would wrap for shares < 2).
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

// cpu.max: "$QUOTA $PERIOD"; a quota <= 0 (-1 in the spec) is "max", a missing period the kernel's 100000.
export function cpuMax(quota: number | undefined, period: number | undefined): string {
  const q = quota !== undefined && quota > 0 ? String(quota) : 'max';
  return `${q} ${period ? period : 100000}`;
}

export function setCpu(ctx: ApplyContext, cpu: LinuxCPU | undefined): void {
  if (!cpu) return;
  if (cpu.realtimeRuntime !== undefined || cpu.realtimePeriod !== undefined) {
    ctx.warn(`${F}.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime CPU controller; ignored`);
  }
  if (cpu.idle !== undefined) ctx.write('cpu.idle', String(cpu.idle), `${F}.idle`);
  const weight = cpu.shares !== undefined ? sharesToWeight(cpu.shares) : 0;
  if (weight !== 0) ctx.write('cpu.weight', String(weight), `${F}.shares`);
  const setMax = !!cpu.quota || !!cpu.period;
  // Raising the burst above what the old quota allows fails (EINVAL) until the new quota is in:
  // write it before and, if that failed that way, again after cpu.max, as newer runc does.
  let burstLater = false;
  if (cpu.burst !== undefined) {
    try {
      ctx.write('cpu.max.burst', String(cpu.burst), `${F}.burst`);
    } catch (e) {
      if (!(e instanceof CgroupWriteError) || e.code !== 'EINVAL' || !setMax) throw e;
      burstLater = true;
    }
  }
  if (setMax) ctx.write('cpu.max', cpuMax(cpu.quota, cpu.period), cpu.quota ? `${F}.quota` : `${F}.period`);
  if (burstLater) ctx.write('cpu.max.burst', String(cpu.burst), `${F}.burst`);
}
