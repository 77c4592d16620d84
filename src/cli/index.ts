// The runc-compatible command line: global flags, the command table, help and version.
// Owns dispatch; each command's module is loaded only when that command runs.
import { configureLog, fatal } from '../log';
import { flagHelp, parseFlags, UsageError, type FlagDef } from './flags';
import type { Command, GlobalOptions } from './command';

declare const OCIRUN_VERSION: string;
declare const OCIRUN_COMMIT: string;

const COMMANDS: Record<string, [string, () => Command]> = {
  checkpoint: ['checkpoint a running container', () => require('./checkpoint').checkpoint],
  create: ['create a container', () => require('./create').default],
  delete: ['delete any resources held by the container often used with detached container', () => require('./delete').default],
  events: ['display container events such as OOM notifications, cpu, memory, and IO usage statistics', () => require('./events').default],
  exec: ['execute new process inside the container', () => require('./exec').default],
  features: ['show the enabled features', () => require('./features').default],
  kill: ['kill sends the specified signal (default: SIGTERM) to the container\'s init process', () => require('./kill').default],
  list: ['lists containers started by ocirun with the given root', () => require('./list').default],
  pause: ['pause suspends all processes inside the container', () => require('./pause').default],
  ps: ['ps displays the processes running inside a container', () => require('./ps').default],
  restore: ['restore a container from a previous checkpoint', () => require('./checkpoint').restore],
  resume: ['resumes all processes that have been previously paused', () => require('./resume').default],
  run: ['create and run a container', () => require('./run').default],
  spec: ['create a new specification file', () => require('./spec').default],
  start: ['executes the user defined process in a created container', () => require('./start').default],
  state: ['output the state of a container', () => require('./state').default],
  update: ['update container resource constraints', () => require('./update').default],
};
const ALIASES: Record<string, string> = { ls: 'list' };

const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'debug', type: 'bool', usage: 'enable debug logging' },
  { name: 'log', type: 'string', usage: 'set the log file to write ocirun logs to (default is \'/dev/stderr\')' },
  { name: 'log-format', type: 'string', usage: 'set the log format (\'text\' (default), or \'json\')', default: 'text' },
  { name: 'root', type: 'string', usage: 'root directory for storage of container state (this should be located in tmpfs)', default: '/run/ocirun' },
  { name: 'criu', type: 'string', usage: 'path to the criu binary used for checkpoint and restore', hidden: true },
  { name: 'systemd-cgroup', type: 'bool', usage: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"' },
  { name: 'rootless', type: 'string', usage: 'ignore cgroup permission errors (\'true\', \'false\', or \'auto\')', default: 'auto' },
  { name: 'help', type: 'bool', usage: 'show help', aliases: ['h'] },
  { name: 'version', type: 'bool', usage: 'print the version', aliases: ['v'] },
];

function version(): string {
  return `ocirun version ${OCIRUN_VERSION}\ncommit: ${OCIRUN_COMMIT}\nspec: 1.3.0\n`;
}

function help(): string {
  const cmds = Object.entries(COMMANDS)
    .map(([n, [d]]) => `   ${n.padEnd(12)}${d}`)
    .join('\n');
  return `NAME:\n   ocirun - Open Container Initiative runtime\n\nUSAGE:\n   ocirun [global options] command [command options] [arguments...]\n\nVERSION:\n   ${OCIRUN_VERSION}\n\nCOMMANDS:\n${cmds}\n\nGLOBAL OPTIONS:\n${flagHelp(GLOBAL_FLAGS)}\n`;
}

function commandHelp(name: string, c: Command): string {
  return `NAME:\n   ocirun ${name} - ${COMMANDS[name][0]}\n\nUSAGE:\n   ocirun ${name} [command options] ${c.args}\n\nOPTIONS:\n${flagHelp(c.flags)}\n`;
}

export async function main(argv: string[]): Promise<void> {
  let g: GlobalOptions;
  let rest: string[];
  try {
    const parsed = parseFlags(GLOBAL_FLAGS, argv);
    rest = parsed.rest;
    const v = parsed.values;
    const fmt = v['log-format'] as string;
    if (fmt !== 'text' && fmt !== 'json') throw new UsageError(`invalid log-format: ${fmt}`);
    g = {
      root: v.root as string,
      log: v.log as string | undefined,
      logFormat: fmt,
      debug: !!v.debug,
      systemdCgroup: !!v['systemd-cgroup'],
      rootless: v.rootless as string,
    };
    // As runc: --version and --help answer before the log is opened.
    if (v.version) return void process.stdout.write(version());
    if (v.help || !rest.length) return void process.stdout.write(help());
    configureLog({ file: g.log, format: g.logFormat, debug: g.debug });
  } catch (e) {
    return fatal((e as Error).message);
  }
  const name = ALIASES[rest[0]] ?? rest[0];
  const entry = COMMANDS[name];
  if (!entry) {
    if (name === 'help') return void process.stdout.write(help());
    return fatal(`No help topic for '${rest[0]}'`);
  }
  const cmd = entry[1]();
  try {
    const { values, rest: args } = parseFlags([...cmd.flags, { name: 'help', type: 'bool', usage: 'show help', aliases: ['h'] }], rest.slice(1));
    if (values.help) return void (cmd.help ? cmd.help() : process.stdout.write(commandHelp(name, cmd)));
    const code = await cmd.run(g, values, args);
    // Exiting here skips tearing the engine down (environment cleanup, heap disposal): milliseconds per call,
    // which every call pays (issue 8). Nothing is left to flush: stdio to files, pipes and ttys is synchronous on Linux.
    process.exit(typeof code === 'number' ? code : 0);
  } catch (e) {
    // A command may ask for runc's exit code (exec fails with 255).
    fatal((e as Error).message, (e as { exitCode?: number }).exitCode ?? 1);
  }
}
