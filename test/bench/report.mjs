// The benchmark's markdown report: machine and version header, the wall-time table with ratios and targets,
// the memory table with the RSS target, binary sizes and the in-process seccomp line.
import * as fs from 'node:fs';
import * as os from 'node:os';

export const RSS_TARGET_MIB = 60;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Collects measurements per row and runtime, keeping the order rows were declared in. */
export class Results {
  constructor() {
    this.rows = new Map();
    // 'path runtime' -> { count, first message }: failed iterations are reported, not measured.
    this.failures = new Map();
  }

  fail(what, runtime, message) {
    const key = `${what} ${runtime}`;
    const f = this.failures.get(key) ?? { what, runtime, count: 0, message };
    f.count += 1;
    this.failures.set(key, f);
  }

  declare(row) {
    if (!this.rows.has(row.label)) this.rows.set(row.label, { ...row, by: {}, na: {} });
  }

  add(runtime, m) {
    const row = this.rows.get(m.row);
    if (row === undefined) throw new Error(`undeclared row ${m.row}`);
    const r = (row.by[runtime] ??= { ms: [], rssKiB: [], memKiB: [] });
    if (m.ms !== undefined) r.ms.push(m.ms);
    if (m.rssKiB !== undefined) r.rssKiB.push(m.rssKiB);
    if (m.memKiB !== undefined) r.memKiB.push(m.memKiB);
  }

  notApplicable(label, runtime, why) {
    this.rows.get(label).na[runtime] = why;
  }
}

export function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? '?';
  const memGiB = os.totalmem() / 2 ** 30;
  return `${model}, ${os.availableParallelism()} cores, ${memGiB.toFixed(1)} GiB, kernel ${os.release()} (${os.version()})`;
}

const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mib = (kib) => (kib / 1024).toFixed(1);
const max = (xs) => Math.max(...xs);

/** Cell text for one runtime: the statistic, or why there is none. */
function cell(row, name, pick, fmt) {
  if (row.na[name] !== undefined) return `n/a (${row.na[name]})`;
  const xs = row.by[name]?.[pick] ?? [];
  return xs.length === 0 ? '–' : fmt(pick === 'ms' ? median(xs) : max(xs));
}

function ratio(row, a, b, pick) {
  const xa = row.by[a]?.[pick] ?? [];
  const xb = row.by[b]?.[pick] ?? [];
  if (xa.length === 0 || xb.length === 0) return '–';
  const stat = pick === 'ms' ? median : max;
  return `${(stat(xa) / stat(xb)).toFixed(2)}×`;
}

function timeTable(results, names) {
  const others = names.filter((n) => n !== 'ocirun' && n !== 'runc');
  const out = [
    `| path | ${names.map((n) => `${n} (ms)`).join(' | ')} | ocirun/runc | ${others.map((n) => `ocirun/${n} | `).join('')}target |`,
    `|---|${names.map(() => '---:|').join('')}---:|${others.map(() => '---:|').join('')}---|`,
  ];
  for (const row of results.rows.values()) {
    if ((row.by.ocirun?.ms ?? []).length === 0 && !names.some((n) => (row.by[n]?.ms ?? []).length > 0)) continue;
    let target = '';
    if (row.target !== undefined) {
      const o = row.by.ocirun?.ms ?? [];
      const r = row.by.runc?.ms ?? [];
      const verdict = o.length === 0 || r.length === 0 ? 'no data' : median(o) / median(r) <= row.target ? 'pass' : 'MISS';
      target = `≤${row.target}× runc: ${verdict}`;
    }
    out.push(
      `| ${row.label} | ${names.map((n) => cell(row, n, 'ms', ms)).join(' | ')} | ${ratio(row, 'ocirun', 'runc', 'ms')} | ` +
        `${others.map((n) => `${ratio(row, 'ocirun', n, 'ms')} | `).join('')}${target} |`,
    );
  }
  return out;
}

/** Timed rows show their call's ru_maxrss; memory rows what was read from /proc. */
function memoryTable(results, names) {
  const out = [
    `| path | ${names.map((n) => `${n} (MiB)`).join(' | ')} | target |`,
    `|---|${names.map(() => '---:|').join('')}---|`,
  ];
  for (const row of results.rows.values()) {
    const pick = row.memory ? 'memKiB' : 'rssKiB';
    const label = row.memory ? row.label : `${row.label}: ru_maxrss`;
    const o = row.by.ocirun?.[pick] ?? [];
    if (o.length === 0 && !names.some((n) => (row.by[n]?.[pick] ?? []).length > 0)) continue;
    let target = '';
    if ((!row.memory || row.rssTarget) && o.length > 0) {
      // Two decimals: a value just over the line would otherwise read "60.0 ... MISS".
      const v = max(o) / 1024;
      target = `≤${RSS_TARGET_MIB} MiB: ${v <= RSS_TARGET_MIB ? 'pass' : 'MISS'} (${v.toFixed(2)})`;
    }
    out.push(`| ${label} | ${names.map((n) => cell(row, n, pick, mib)).join(' | ')} | ${target} |`);
  }
  return out;
}

export function seccompLines(r, targetMs) {
  if (r === undefined) return [];
  if (r.note !== undefined) return [`- seccomp compile: ${r.note}`];
  const verdict = r.median < targetMs ? 'pass' : 'MISS';
  return [
    `| in-process benchmark | median (ms) | target | rounds |`,
    `|---|---:|---|---:|`,
    `| ${r.name} | ${r.median.toFixed(3)} | < ${targetMs} ms: ${verdict} | ${r.rounds} |`,
  ];
}

/** meta: { date, versions: [[name, text]], sizes: [[name, path, bytes]], notes: [string], n, warmup }. */
export function render({ meta, results, names, seccomp, seccompTargetMs }) {
  const out = ['# ocirun benchmark', ''];
  out.push(`- date: ${meta.date}`);
  out.push(`- machine: ${machine()}`);
  for (const [name, text] of meta.versions) out.push(`- ${name}: ${text}`);
  for (const note of meta.notes) out.push(`- ${note}`);
  if (results.rows.size > 0) {
    out.push('', '## Wall time (median)', '', ...timeTable(results, names));
    out.push('', '## Memory (largest over the iterations)', '', ...memoryTable(results, names));
  }
  if (meta.sizes.length > 0) {
    out.push('', '## Binary size', '', '| binary | path | size (MiB) |', '|---|---|---:|');
    for (const [name, p, bytes] of meta.sizes) out.push(`| ${name} | ${p} | ${(bytes / 2 ** 20).toFixed(1)} |`);
  }
  if (results.failures.size > 0) {
    out.push('', '## Failed calls (left out of the numbers above)', '', '| path | runtime | failed iterations | first error |', '|---|---|---:|---|');
    for (const f of results.failures.values()) {
      out.push(`| ${f.what} | ${f.runtime} | ${f.count} | ${f.message.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`);
    }
  }
  const sc = seccompLines(seccomp, seccompTargetMs);
  if (sc.length > 0) out.push('', '## In process', '', ...sc);
  return `${out.join('\n')}\n`;
}
