// PLACEHOLDER, replaced at merge by the verified-procfs module (fstatfs PROC_SUPER_MAGIC handle).
// Owns writes under /proc; callers pass a path relative to /proc, e.g. 'self/attr/apparmor/exec'.
import * as fs from 'node:fs';

export function procfsWrite(rel: string, data: string | Buffer): void {
  fs.writeFileSync('/proc/' + rel, data);
}
