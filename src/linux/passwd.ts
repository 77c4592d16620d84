// Lookups in an /etc/passwd file: whichever one "/" shows (the host's, or the container's after pivot).
// Owns passwdEntry.
import * as fs from 'node:fs';

// The fields of the first entry for uid (name, password, uid, gid, gecos, home, shell), if any.
export function passwdEntry(uid: number): string[] | undefined {
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line?.split(':');
  } catch {
    return undefined;
  }
}
