// Resident memory of a created container's processes, read from /proc: the init waiting for `start`,
// any runtime process left between it and pid 1 (a stub), and anything the init forked.
import * as fs from 'node:fs';

/** { name, ppid, rssKiB, hwmKiB } of pid, or undefined once it is gone. */
export function procStatus(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (k) => {
    const m = new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(text);
    return m === null ? undefined : m[1];
  };
  return {
    name: field('Name') ?? '?',
    ppid: Number(field('PPid') ?? 0),
    // Kernel threads and zombies have no Vm* lines.
    rssKiB: Number(field('VmRSS') ?? 0),
    hwmKiB: Number(field('VmHWM') ?? 0),
  };
}

function childrenOf() {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStatus(Number(entry));
    if (st === undefined) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(entry));
  }
  return children;
}

/** This process and its ancestors: never counted as a container's. */
function ownChain() {
  const chain = new Set();
  for (let pid = process.pid; pid > 1 && !chain.has(pid); pid = procStatus(pid)?.ppid ?? 0) chain.add(pid);
  return chain;
}

/**
 * The memory a created-but-not-started container holds: the init's VmRSS and VmHWM (its peak so far, i.e.
 * of the whole set-up it did before blocking on exec.fifo), the VmRSS of every live ancestor up to pid 1 (a
 * runtime stub that stayed between) and of the init's descendants. exclude: pids of the harness's helpers.
 */
export function createdContainerMemory(pid, exclude = new Set(), kids = childrenOf()) {
  const init = procStatus(pid);
  if (init === undefined) throw new Error(`container init ${pid} is gone`);
  const own = ownChain();
  const between = [];
  for (let p = init.ppid; p > 1 && !own.has(p) && !exclude.has(p); ) {
    const st = procStatus(p);
    if (st === undefined) break;
    between.push({ pid: p, ...st });
    p = st.ppid;
  }
  const below = [];
  const stack = [...(kids.get(pid) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop();
    const st = procStatus(p);
    if (st !== undefined) below.push({ pid: p, ...st });
    stack.push(...(kids.get(p) ?? []));
  }
  const others = [...between, ...below];
  return {
    initRssKiB: init.rssKiB,
    initHwmKiB: init.hwmKiB,
    otherRssKiB: others.reduce((s, p) => s + p.rssKiB, 0),
    // Names only: the same kind of process recurs in every container.
    others: [
      ...new Set([...between.map((p) => `${p.name} between it and pid 1`), ...below.map((p) => `${p.name} forked by it`)]),
    ],
  };
}

/** Sum of VmRSS over many created containers' processes, scanning /proc once. */
export function createdContainersRss(pids, exclude = new Set()) {
  const kids = childrenOf();
  let total = 0;
  for (const pid of pids) {
    const m = createdContainerMemory(pid, exclude, kids);
    total += m.initRssKiB + m.otherRssKiB;
  }
  return total;
}
