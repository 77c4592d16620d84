// Scaling benchmark: many containers created at once (total wall time, memory of the create calls and of the
// waiting inits) and exec latency with 1 and with that many running containers, per runtime in turn.
import { createdContainersRss } from './memory.mjs';
import { TIME_TARGET } from './paths.mjs';

export function scaleRows(count) {
  return {
    exec1: { label: '`exec` /bin/true with 1 running container', target: TIME_TARGET },
    execN: { label: `\`exec\` /bin/true with ${count} running containers`, target: TIME_TARGET },
    createN: { label: `${count} \`create\` calls at once: total wall time` },
    createPeak: { label: `${count} \`create\` calls at once: largest ru_maxrss of one call`, memory: true, rssTarget: true },
    createSum: { label: `${count} \`create\` calls at once: sum of their ru_maxrss (bound on the joint peak)`, memory: true },
    initsSum: { label: `${count} created containers waiting for \`start\`: sum of VmRSS`, memory: true },
  };
}

/**
 * One round for one runtime. execs: exec calls per container count; the first of each series is a warm-up.
 * Each runtime's containers are all removed before the next runtime's round, so they never share the machine.
 */
export async function scaleRound(rt, ctx, { count, execs }) {
  const rows = scaleRows(count);
  const out = [];
  const execSeries = async (id, row) => {
    for (let i = 0; i < execs + 1; i += 1) {
      const r = await rt.call(['exec', id, '/bin/true']);
      if (i > 0) out.push({ row: row.label, ms: r.ms, rssKiB: r.rssKiB });
    }
  };

  const one = await rt.running(ctx.bundles.sleep);
  await execSeries(one.id, rows.exec1);
  await rt.remove(one.id);

  const base = rt.nextId();
  const ids = Array.from({ length: count }, (_, i) => `${base}-${i}`);
  rt.ids.push(...ids);
  try {
    const created = await rt.batch(count, ['create', '--bundle', ctx.bundles.sleep, '--pid-file', rt.pidFile(`${base}-{}`), `${base}-{}`]);
    out.push({ row: rows.createN.label, ms: created.totalMs });
    out.push({ row: rows.createPeak.label, memKiB: Math.max(...created.calls.map((c) => c.rssKiB)) });
    out.push({ row: rows.createSum.label, memKiB: created.calls.reduce((s, c) => s + c.rssKiB, 0) });
    out.push({ row: rows.initsSum.label, memKiB: createdContainersRss(ids.map((id) => rt.readPid(id)), ctx.helperPids) });
    await rt.batch(count, ['start', `${base}-{}`]);
    await execSeries(ids[0], rows.execN);
  } finally {
    // All at once (not measured); if some were never created, one by one whatever exists of them.
    try {
      await rt.batch(count, ['delete', '--force', `${base}-{}`]);
    } catch {
      await rt.removeAll();
    }
  }
  return out;
}
