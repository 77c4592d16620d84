// `ocirun list`: the table, -q ids, or --format json, as runc prints them.
// Owns list's output formats.
import * as fs from 'node:fs';
import { publicState } from '../container/state';
import { store, type Command } from './command';
import { passwdEntry } from '../linux/passwd';

// runc lists the user owning the state directory by name.
function ownerOf(dir: string): string {
  let uid: number;
  try {
    uid = fs.statSync(dir).uid;
  } catch {
    return '';
  }
  return passwdEntry(uid)?.[0] || `#${uid}`;
}

const cmd: Command = {
  usage: 'list',
  args: '',
  flags: [
    { name: 'format', type: 'string', usage: 'select one of: table or json (default: "table")', aliases: ['f'], default: 'table' },
    { name: 'quiet', type: 'bool', usage: 'display only container IDs', aliases: ['q'] },
  ],
  run(g, f) {
    const s = store(g);
    const all = s.ids().flatMap((id) => {
      try {
        return [publicState(s, s.load(id))];
      } catch (e) {
        // Deleted meanwhile: not worth a word. Anything else (another runtime's state sharing the root) is
        // skipped with a note on stderr, as runc does for entries it cannot load.
        const msg = (e as Error).message;
        if (msg !== 'container does not exist') process.stderr.write(`load container ${id}: ${msg}\n`);
        return [];
      }
    });
    if (f.quiet) return void process.stdout.write(all.map((c) => c.id + '\n').join(''));
    if (f.format === 'json') {
      const out = all.map((c) => ({
        ociVersion: c.ociVersion, id: c.id, pid: c.pid, status: c.status, bundle: c.bundle, rootfs: c.rootfs,
        created: c.created, owner: ownerOf(s.dir(c.id)), ...(c.annotations ? { annotations: c.annotations } : {}),
      }));
      return void process.stdout.write((out.length ? JSON.stringify(out) : 'null') + '\n');
    }
    if (f.format !== 'table') throw new Error(`invalid format option`);
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((c) => [c.id, String(c.pid), c.status, c.bundle, c.created, ownerOf(s.dir(c.id))])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(rows.map((r) => r.map((v, i) => (i < r.length - 1 ? v.padEnd(Math.max(widths[i] + 3, 12)) : v)).join('').trimEnd() + '\n').join(''));
  },
};
export default cmd;
