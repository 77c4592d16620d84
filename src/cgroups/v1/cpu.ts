// v1 cpu controller: realtime bandwidth, shares (read back, as runc, to report the kernel's clamping),
// CFS period/quota with runc's retry when a smaller period is refused before the quota is lowered, burst, idle.
import { CgroupWriteError, R, num, readValue, set, writeValue, type Controller } from './fs';

const F = `${R}.cpu`;

export const cpu: Controller = {
  name: 'cpu',
  requested(r) {
    const c = r.cpu ?? {};
    const out: string[] = [];
    for (const k of ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod'] as const) if (set(c[k])) out.push(`${F}.${k}`);
    if (c.idle !== undefined) out.push(`${F}.idle`);
    return out;
  },
  set(dir, r) {
    const c = r.cpu;
    if (!c) return;
    if (set(c.realtimePeriod)) writeValue(dir, 'cpu.rt_period_us', num(c.realtimePeriod), `${F}.realtimePeriod`);
    if (set(c.realtimeRuntime)) writeValue(dir, 'cpu.rt_runtime_us', num(c.realtimeRuntime), `${F}.realtimeRuntime`);
    if (set(c.shares)) {
      writeValue(dir, 'cpu.shares', num(c.shares), `${F}.shares`);
      const got = Number(readValue(dir, 'cpu.shares'));
      if (c.shares > got) throw new Error(`${F}.shares: the maximum allowed cpu-shares is ${got}`);
      if (c.shares < got) throw new Error(`${F}.shares: the minimum allowed cpu-shares is ${got}`);
    }
    let periodLater = false;
    if (set(c.period)) {
      try {
        writeValue(dir, 'cpu.cfs_period_us', num(c.period), `${F}.period`);
      } catch (e) {
        // old quota / new period may exceed the parent's bandwidth until the quota is written.
        if (!(e instanceof CgroupWriteError && e.code === 'EINVAL' && set(c.quota))) throw e;
        periodLater = true;
      }
    }
    if (set(c.quota)) {
      writeValue(dir, 'cpu.cfs_quota_us', num(c.quota), `${F}.quota`);
      if (periodLater) writeValue(dir, 'cpu.cfs_period_us', num(c.period!), `${F}.period`);
    }
    if (set(c.burst)) writeValue(dir, 'cpu.cfs_burst_us', num(c.burst), `${F}.burst`);
    if (c.idle !== undefined) writeValue(dir, 'cpu.idle', num(c.idle), `${F}.idle`);
  },
};
