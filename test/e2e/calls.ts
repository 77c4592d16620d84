// Records every runtime call an engine makes: a shell wrapper logs argv, then execs the real binary unchanged.
// Owns the wrapper and the reduction of calls to their shape (command plus flag names), for the engine notes.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RuntimeCalls {
  /** The wrapper to hand the engine in place of the runtime. */
  bin: string;
  /** Every call so far, argv without the program name. */
  calls(): string[][];
  /** Distinct call shapes, e.g. `--root --log --log-format json create --bundle --pid-file <id>`. */
  shapes(): string[];
  /** Writes the shapes to $E2E_CALLS_DIR/<engine>.txt when that is set (for the engine notes). */
  save(engine: string): void;
}

const SEP = '\x1f';

export function recordCalls(dir: string, runtime: string): RuntimeCalls {
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'calls.log');
  const bin = path.join(dir, 'runtime');
  // One line per call; the unit separator cannot occur in an argument the engines pass.
  fs.writeFileSync(
    bin,
    `#!/bin/sh\n{ printf '%s\\037' "$@"; printf '\\n'; } >> '${log}'\nexec '${runtime}' "$@"\n`,
    { mode: 0o755 },
  );
  const calls = () => {
    let text = '';
    try {
      text = fs.readFileSync(log, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(SEP).slice(0, -1));
  };
  const shapes = () => [...new Set(calls().map(shapeOf))].sort();
  return {
    bin,
    calls,
    shapes,
    save(engine) {
      const out = process.env.E2E_CALLS_DIR;
      if (!out) return;
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, `${engine}.txt`), `${shapes().join('\n')}\n`);
    },
  };
}

// Flags that take a value in runc's CLI; their values are dropped so that calls differing only in ids or paths
// reduce to one shape. Anything after the command's flags is a positional (id, or exec's args) and becomes <arg>.
const VALUE_FLAGS = new Set([
  'root', 'log', 'log-format', 'criu', 'rootless',
  'bundle', 'b', 'pid-file', 'console-socket', 'preserve-fds', 'process', 'p', 'cwd', 'env', 'e', 'user', 'u',
  'additional-gids', 'g', 'cap', 'c', 'process-label', 'apparmor', 'format', 'f', 'interval', 'resources', 'r',
  'image-path', 'work-path', 'parent-path', 'manage-cgroups-mode', 'empty-ns', 'status-fd', 'page-server',
  'lsm-profile', 'lsm-mount-context', 'blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-share', 'cpu-rt-period',
  'cpu-rt-runtime', 'cpuset-cpus', 'cpuset-mems', 'kernel-memory', 'kernel-memory-tcp', 'memory',
  'memory-reservation', 'memory-swap', 'pids-limit', 'l3-cache-schema', 'mem-bw-schema', 'signal', 's',
]);
const COMMANDS = new Set([
  'checkpoint', 'create', 'delete', 'events', 'exec', 'features', 'init', 'kill', 'list', 'ps', 'pause', 'restore',
  'resume', 'run', 'spec', 'start', 'state', 'update', 'ls',
]);

export function shapeOf(argv: string[]): string {
  const out: string[] = [];
  let i = 0;
  let seenCommand = false;
  while (i < argv.length) {
    const a = argv[i];
    if (!seenCommand && COMMANDS.has(a)) {
      out.push(a);
      seenCommand = true;
      i++;
      continue;
    }
    if (a.startsWith('-') && a !== '-' && a !== '--') {
      const body = a.replace(/^--?/, '');
      const name = body.split('=')[0];
      out.push(a.startsWith('--') ? `--${name}` : `-${name}`);
      if (VALUE_FLAGS.has(name) && !body.includes('=')) i++;
      i++;
      continue;
    }
    if (seenCommand) {
      // The first positional is the container id; everything after it (exec's command, kill's signal) is data.
      out.push(argv.length - i > 1 ? '<id> <args>' : '<id>');
      break;
    }
    out.push(a);
    i++;
  }
  return out.join(' ');
}
