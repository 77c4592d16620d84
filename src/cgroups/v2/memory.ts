// linux.resources.memory on cgroup2: memory.max (limit), memory.low (reservation), memory.swap.max
// (swap, converted from v1's memory+swap). The v1-only fields are ignored with a warning, as runc's
// fs2 ignores them (silently); memory.high and memory.oom.group are reachable only through `unified`.
import type { LinuxMemory } from '../../oci';
import type { ApplyContext } from './context';
import { CgroupWriteError, numToStr, parseUint, readFile, RESOURCES } from './files';

const F = `${RESOURCES}.memory`;

// runc's ConvertMemorySwapToCgroupV2Value: v1's swap is memory+swap, v2's swap.max is swap alone.
// Returns -1 for "max" and 0 for "leave alone".
export function swapToV2(swap: number | undefined, limit: number | undefined): number {
  const s = swap ?? 0;
  const m = limit ?? 0;
  // An unlimited memory with no swap given means both unlimited (v1 compatibility).
  if (m === -1 && s === 0) return -1;
  if (s === -1 || s === 0) return s;
  if (m === 0 || m === -1) throw new Error(`${F}.swap: cannot set a swap limit without a memory limit`);
  if (m < 0) throw new Error(`${F}.limit: invalid memory value ${m}`);
  if (s < m) throw new Error(`${F}.swap: memory+swap limit (${s}) must be >= the memory limit (${m})`);
  return s - m;
}

export function setMemory(ctx: ApplyContext, mem: LinuxMemory | undefined): void {
  if (!mem) return;
  if (mem.kernel !== undefined) ctx.warn(`${F}.kernel: kernel memory limits do not exist on cgroup v2; ignored`);
  if (mem.kernelTCP !== undefined) ctx.warn(`${F}.kernelTCP: kernel TCP memory limits do not exist on cgroup v2; ignored`);
  if (mem.swappiness !== undefined) ctx.warn(`${F}.swappiness: cgroup v2 has no per-cgroup swappiness; ignored`);
  if (mem.disableOOMKiller) ctx.warn(`${F}.disableOOMKiller: cgroup v2 cannot disable the OOM killer; ignored`);
  if (mem.useHierarchy === false) ctx.warn(`${F}.useHierarchy: cgroup v2 is always hierarchical; ignored`);
  const limit = mem.limit ?? 0;
  const swap = mem.swap ?? 0;
  const reservation = mem.reservation ?? 0;
  if (!limit && !swap && !reservation) return;
  if (mem.checkBeforeUpdate && limit > 0) {
    const usage = parseUint(readFile(ctx.dir, 'memory.current'));
    if (usage >= limit) throw new Error(`${F}.limit: rejecting memory limit ${limit} below the current usage ${usage}`);
  }
  const v2swap = swapToV2(mem.swap, mem.limit);
  let swapStr = numToStr(v2swap);
  // limit == swap: no swap at all.
  if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0';
  if (swapStr !== '') {
    try {
      ctx.write('memory.swap.max', swapStr, `${F}.swap`);
    } catch (e) {
      // Without swap accounting there is no memory.swap.max; "no limit" and "no swap" then need no write.
      if (!(e instanceof CgroupWriteError && e.code === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw e;
    }
  }
  const max = numToStr(limit);
  if (max) ctx.write('memory.max', max, `${F}.limit`);
  const low = numToStr(reservation);
  if (low) ctx.write('memory.low', low, `${F}.reservation`);
}
