// The per-call benchmarks ("paths"): what each measures, the fixtures it needs and which rows of the report
// it fills. A bench's once(rt, ctx) does one iteration for one runtime and returns its measurements.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createdContainerMemory } from './memory.mjs';

/** Row targets from issue 8: ocirun/runc wall-time ratio. */
export const TIME_TARGET = 1.5;

/**
 * Every bench: key (for BENCH_ONLY), rows it reports (label, and target when the issue sets one), needs
 * (running fixtures per runtime: sleeper = a running sleep, busy = a running container with many processes)
 * and once(rt, ctx) -> [{ row, ms?, rssKiB?, memKiB? }]. ms/rssKiB are the timed call's wall time and
 * ru_maxrss; memKiB is memory read from /proc, reported in the memory table only.
 */
export function pathBenches({ busyCount }) {
  const lifecycle = {
    create: '`create`',
    start: '`start`',
    del: '`delete` (stopped container)',
    sum: '`create` + `start` + `delete` (sequence)',
    initRss: 'container init waiting for `start`: VmRSS',
    initHwm: 'container init waiting for `start`: VmHWM (its peak)',
    other: 'processes between the init and pid 1 or below it: VmRSS',
  };
  return [
    {
      key: 'version',
      rows: [{ label: '`--version`' }],
      once: async (rt) => {
        const r = await rt.call(['--version'], { raw: true });
        return [{ row: '`--version`', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'spec',
      rows: [{ label: '`spec`' }],
      once: async (rt, ctx) => {
        const dir = path.join(ctx.scratch, `spec-${rt.name}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.rmSync(path.join(dir, 'config.json'), { force: true });
        const r = await rt.call(['spec', '--bundle', dir], { raw: true });
        return [{ row: '`spec`', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'run',
      rows: [{ label: '`run` /bin/true', target: TIME_TARGET }],
      once: async (rt, ctx) => {
        const r = await rt.call(['run', '--bundle', ctx.bundles.true, rt.nextId()]);
        return [{ row: '`run` /bin/true', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'lifecycle',
      rows: [
        { label: lifecycle.create },
        { label: lifecycle.start },
        { label: lifecycle.del },
        { label: lifecycle.sum, target: TIME_TARGET },
        { label: lifecycle.initRss, memory: true },
        // The init is the create call's work too (a separate process, so not in create's ru_maxrss).
        { label: lifecycle.initHwm, memory: true, rssTarget: true },
        { label: lifecycle.other, memory: true },
      ],
      // The container runs /bin/true; delete waits (untimed) until it has exited so it always takes the
      // same path (a stopped container, no kill), which `delete --force` racing the exit would not.
      once: async (rt, ctx) => {
        const { id, pid, create } = await rt.create(ctx.bundles.true);
        const mem = createdContainerMemory(pid, ctx.helperPids);
        for (const name of mem.others) ctx.notes.add(`${rt.name}: a created container has, besides its init, ${name}`);
        const start = await rt.call(['start', id]);
        await rt.timer.waitGone(pid);
        const del = await rt.call(['delete', id]);
        return [
          { row: lifecycle.create, ms: create.ms, rssKiB: create.rssKiB },
          { row: lifecycle.start, ms: start.ms, rssKiB: start.rssKiB },
          { row: lifecycle.del, ms: del.ms, rssKiB: del.rssKiB },
          { row: lifecycle.sum, ms: create.ms + start.ms + del.ms, rssKiB: Math.max(create.rssKiB, start.rssKiB, del.rssKiB) },
          { row: lifecycle.initRss, memKiB: mem.initRssKiB },
          { row: lifecycle.initHwm, memKiB: mem.initHwmKiB },
          { row: lifecycle.other, memKiB: mem.otherRssKiB },
        ];
      },
    },
    {
      key: 'exec',
      rows: [{ label: '`exec` /bin/true into a running container', target: TIME_TARGET }],
      needs: ['sleeper'],
      once: async (rt, ctx) => {
        const r = await rt.call(['exec', ctx.fixtures.sleeper.id, '/bin/true']);
        return [{ row: '`exec` /bin/true into a running container', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'state',
      rows: [{ label: '`state` of a running container' }],
      needs: ['sleeper'],
      once: async (rt, ctx) => {
        const r = await rt.call(['state', ctx.fixtures.sleeper.id]);
        return [{ row: '`state` of a running container', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'update',
      rows: [{ label: '`update --resources -` (memory, pids, cpu shares from stdin)' }],
      needs: ['sleeper'],
      once: async (rt, ctx) => {
        const r = await rt.call(['update', '--resources', '-', ctx.fixtures.sleeper.id], { stdin: ctx.updateJson });
        return [{ row: '`update --resources -` (memory, pids, cpu shares from stdin)', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'kill',
      rows: [{ label: '`kill KILL` until the init has exited' }],
      // Each iteration needs a fresh running container; making and deleting it is not timed.
      once: async (rt, ctx) => {
        const c = await rt.running(ctx.bundles.sleep);
        const r = await rt.callUntilGone(c.pid, ['kill', c.id, 'KILL']);
        await rt.call(['delete', c.id]);
        return [{ row: '`kill KILL` until the init has exited', ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'ps',
      rows: [{ label: `\`ps --format json\` of a container with ${busyCount} processes` }],
      needs: ['busy'],
      once: async (rt, ctx) => {
        const r = await rt.call(['ps', '--format', 'json', ctx.fixtures.busy.id]);
        return [{ row: `\`ps --format json\` of a container with ${busyCount} processes`, ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
    {
      key: 'events',
      rows: [{ label: `\`events --stats\` of a container with ${busyCount} processes` }],
      needs: ['busy'],
      once: async (rt, ctx) => {
        const r = await rt.call(['events', '--stats', ctx.fixtures.busy.id]);
        return [{ row: `\`events --stats\` of a container with ${busyCount} processes`, ms: r.ms, rssKiB: r.rssKiB }];
      },
    },
  ];
}

/** Fixture makers: a running container per runtime, created before the first bench that needs it. */
export const FIXTURES = {
  sleeper: async (rt, ctx) => rt.running(ctx.bundles.sleep),
  busy: async (rt, ctx) => {
    const c = await rt.running(ctx.bundles.busy);
    // The shell forks its sleepers after start returned: wait until they all exist.
    const deadline = Date.now() + 120_000;
    while (countDescendants(c.pid) < ctx.busyCount) {
      if (Date.now() > deadline) throw new Error(`${rt.name}: the busy container did not reach ${ctx.busyCount} processes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return c;
  },
};

function countDescendants(pid) {
  const kids = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(e));
    } catch {
      // Exited meanwhile.
    }
  }
  let n = 0;
  const stack = [...(kids.get(pid) ?? [])];
  while (stack.length > 0) {
    n += 1;
    stack.push(...(kids.get(stack.pop()) ?? []));
  }
  return n;
}
