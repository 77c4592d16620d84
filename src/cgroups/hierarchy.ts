// Discovery of the host's cgroup hierarchies (v1 controllers, named v1, and the cgroup2 tree).
// Owns parsing of /proc/self/mountinfo and /proc/<pid>/cgroup; pure functions over their text.
import * as fs from 'node:fs';

export interface Hierarchy {
  // v1: the controllers (or name=X) of the hierarchy; v2: [] with unified true.
  controllers: string[];
  unified: boolean;
  mountpoint: string;
  // The cgroup path that the mount's root corresponds to (not "/" inside a cgroup namespace or a bind).
  root: string;
}

const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts] = post.split(' ');
    if (fstype === 'cgroup2') out.push({ controllers: [], unified: true, mountpoint: unescape(f[4]), root: unescape(f[3]) });
    else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr' && o !== 'cpuset_v2_mode');
      out.push({ controllers, unified: false, mountpoint: unescape(f[4]), root: unescape(f[3]) });
    }
  }
  // A hierarchy can be mounted twice (e.g. once in a container); keep the first mount of each.
  const seen = new Set<string>();
  return out.filter((h) => {
    const key = h.unified ? '' : h.controllers.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// Maps "cpu,cpuacct" / "name=systemd" / "" (cgroup2) to the process's path in that hierarchy.
export function parseProcCgroup(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    m.set(line.slice(i + 1, j), line.slice(j + 1));
  }
  return m;
}

export const hierarchyKey = (h: Hierarchy) => (h.unified ? '' : h.controllers.join(','));

export function hostHierarchies(): Hierarchy[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}
