// Making and removing cgroup2 directories: mkdir -p with the available controllers enabled in every
// ancestor's cgroup.subtree_control (from the hierarchy root down, as runc does), and rmdir of a whole
// subtree, deepest first, retrying while the kernel still reports the cgroup busy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readControllers } from './context';
import { writeFile } from './files';

// The cgroup2 root that dir lives in: its topmost ancestor that is still a cgroup (has cgroup.controllers).
// A path that does not exist yet counts from its first existing ancestor.
export function hierarchyRoot(dir: string): string {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && d !== '/') d = path.dirname(d);
  let root = d;
  for (let cur = d; ; cur = path.dirname(cur)) {
    if (fs.existsSync(path.join(cur, 'cgroup.controllers'))) root = cur;
    else if (cur !== d) break;
    if (cur === '/') break;
  }
  return root;
}

// Best effort: a controller the kernel refuses here (rootless, delegation, a threaded subtree) surfaces
// later as an error naming the resource that needs it.
function enableControllers(dir: string, controllers: string[]): void {
  if (!controllers.length) return;
  const file = 'cgroup.subtree_control';
  try {
    writeFile(dir, file, controllers.map((c) => `+${c}`).join(' '), file);
  } catch {
    for (const c of controllers) {
      try {
        writeFile(dir, file, `+${c}`, file);
      } catch {
        /* see above */
      }
    }
  }
}

// Returns the directories it made, outermost first.
export function createTree(dir: string): string[] {
  const leaf = path.resolve(dir);
  const root = hierarchyRoot(leaf);
  const available = [...readControllers(root)];
  const rel = path.relative(root, leaf);
  const levels = [root];
  if (rel) for (const part of rel.split(path.sep)) levels.push(path.join(levels[levels.length - 1], part));
  const made: string[] = [];
  try {
    for (let i = 0; i < levels.length; i++) {
      const d = levels[i];
      if (i > 0) {
        try {
          fs.mkdirSync(d, 0o755);
          made.push(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      // Not in the leaf: a cgroup with processes cannot also enable controllers for children.
      if (i < levels.length - 1) enableControllers(d, available);
    }
  } catch (e) {
    for (const d of [...made].reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* the original error matters more */
      }
    }
    throw e;
  }
  return made;
}
