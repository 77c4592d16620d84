// Normalisers for container observations that legitimately differ between two runs
// (kernel-assigned ids, timestamps), so differential tests compare only what matters.
import { unescapeMountPath } from './leftovers';

/**
 * One line per mount: mount point, per-mount options, optional-field tags, fs type,
 * source, super options. Dropped: mount id and parent id (kernel counters), major:minor
 * (anonymous devices are numbered per mount), root (cgroup roots embed the caller's
 * cgroup path), and peer-group numbers (global counters). Sorted by mount point with
 * a stable sort: stacked mounts on one point keep their relative order, which is the
 * part of ordering a container can observe; unrelated mounts may be made in any order.
 */
export function normaliseMountinfo(text: string): string[] {
  const rows: { mp: string; line: string }[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const f = raw.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0) throw new Error(`unparseable mountinfo line: ${raw}`);
    const mp = unescapeMountPath(f[4] ?? '');
    const optional = f
      .slice(6, sep)
      .map((o) => o.replace(/:\d+$/, ''))
      .join(',');
    const [fstype, source, superOpts] = f.slice(sep + 1);
    rows.push({ mp, line: `${mp} ${f[5]} [${optional}] ${fstype} ${source} ${superOpts}` });
  }
  return rows.sort((a, b) => (a.mp < b.mp ? -1 : a.mp > b.mp ? 1 : 0)).map((r) => r.line);
}

/** busybox `ls -l` prints "Mmm dd HH:MM" or "Mmm dd  YYYY"; creation times differ per run. */
export function normaliseLsDates(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/ [A-Z][a-z]{2} +\d{1,2} +(\d{2}:\d{2}|\d{4}) /, ' <date> '))
    .join('\n');
}

/** Structural type of a JSON value, for comparing two state documents by shape. */
export function jsonShape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map(jsonShape);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = jsonShape((v as Record<string, unknown>)[k]);
    return out;
  }
  return typeof v;
}
