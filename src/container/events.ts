// `events`: one stats document, or a stream of stats per interval plus OOM notifications
// (v1: eventfd on memory.oom_control; v2: inotify on memory.events), ending as runc's does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../linux/libc';
import { EFD_CLOEXEC, IN_CLOEXEC, IN_MODIFY } from '../linux/constants';
import { error as logError } from '../log';
import { controllerDir, statsJson } from '../cgroups/v1/stats';
import type { CgroupStats } from '../cgroups/types';
import { cgroupDriver, isUnifiedOnly } from '../cgroups';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

// Go's time.ParseDuration, in nanoseconds: "300ms", "1.5h", "2h45m", "-1s", "0".
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (!s) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
    const unit = UNITS[m[3]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(text)}`);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * unit;
    s = s.slice(m[0].length);
  }
  return sign * Math.floor(total);
}

export function containerStats(paths: Record<string, string>): CgroupStats {
  return cgroupDriver(paths).stats();
}

const write = (line: string) => process.stdout.write(line + '\n');

export function statsEvent(id: string, paths: Record<string, string>): string {
  return statsJson({ type: 'stats', id, data: containerStats(paths) });
}

// Reads an fd on libuv's thread pool, so a blocking eventfd/inotify read never stalls the timers.
function readLoop(fd: number, size: number, onData: (b: Buffer) => boolean, onEnd: () => void): void {
  const buf = Buffer.alloc(size);
  const next = () =>
    fs.read(fd, buf, 0, size, null, (err, n) => {
      if (err || n === 0 || !onData(buf.subarray(0, n))) return onEnd();
      next();
    });
  next();
}

// v1: an eventfd registered through cgroup.event_control fires on each OOM, and once more when the
// cgroup is removed; runc tells the two apart by whether cgroup.event_control still exists.
function watchOomV1(dir: string, onOom: () => void, onGone: () => void): void {
  const efd = libc().eventfd(0, EFD_CLOEXEC);
  const ctl = path.join(dir, 'cgroup.event_control');
  const oomFd = fs.openSync(path.join(dir, 'memory.oom_control'), 'r');
  fs.writeFileSync(ctl, `${efd} ${oomFd} `);
  readLoop(
    efd,
    8,
    () => {
      if (!fs.existsSync(ctl)) return false;
      onOom();
      return true;
    },
    () => {
      fs.closeSync(efd);
      fs.closeSync(oomFd);
      onGone();
    },
  );
}

// Parses `key value` lines such as memory.events and cgroup.events.
export function eventValue(text: string, key: string): number | undefined {
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}

// v2: inotify on memory.events (an OOM kill raises oom_kill) and cgroup.events (populated 0 means
// the container is gone, which ends the stream as in runc).
function watchOomV2(dir: string, onOom: () => void, onGone: () => void): void {
  const fd = libc().inotifyInit1(IN_CLOEXEC);
  const memEvents = path.join(dir, 'memory.events');
  const cgEvents = path.join(dir, 'cgroup.events');
  const evWd = libc().inotifyAddWatch(fd, memEvents, IN_MODIFY);
  const cgWd = libc().inotifyAddWatch(fd, cgEvents, IN_MODIFY);
  const read = (f: string, key: string) => {
    try {
      return eventValue(fs.readFileSync(f, 'utf8'), key);
    } catch {
      return undefined;
    }
  };
  let kills = read(memEvents, 'oom_kill') ?? 0;
  readLoop(
    fd,
    4096,
    (b) => {
      // struct inotify_event { int wd; u32 mask, cookie, len; char name[len]; }
      for (let off = 0; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 12)) {
        const wd = b.readInt32LE(off);
        if (!(b.readUInt32LE(off + 4) & IN_MODIFY)) continue;
        if (wd === evWd) {
          const now = read(memEvents, 'oom_kill');
          // Only a new kill is an event; runc 1.1 repeats one for every later memory.events change.
          if (now === undefined || now > kills) onOom();
          kills = now ?? kills;
        } else if (wd === cgWd) {
          const populated = read(cgEvents, 'populated');
          if (!populated) return false;
        }
      }
      return true;
    },
    () => {
      fs.closeSync(fd);
      onGone();
    },
  );
}

export function printStatsOnce(id: string, paths: Record<string, string>): void {
  write(statsEvent(id, paths));
}

// Streams until the OOM watch ends (v1: cgroup removed; v2: cgroup no longer populated).
export function streamEvents(id: string, paths: Record<string, string>, intervalNs: number): Promise<void> {
  const memDir = isUnifiedOnly(paths) ? paths[''] : controllerDir(paths, 'memory');
  if (!memDir) throw new Error(`invalid memory cgroup path: ""`);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      try {
        write(statsEvent(id, paths));
      } catch (e) {
        logError((e as Error).message);
      }
    }, Math.max(1, Math.round(intervalNs / 1e6)));
    const onOom = () => write(JSON.stringify({ type: 'oom', id }));
    const onGone = () => {
      clearInterval(timer);
      resolve();
    };
    if (isUnifiedOnly(paths)) watchOomV2(memDir, onOom, onGone);
    else watchOomV1(memDir, onOom, onGone);
  });
}
