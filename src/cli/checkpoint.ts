// `ocirun checkpoint` and `ocirun restore`: runc's flags, parsed as runc parses them, and a clear refusal.
// ocirun has no CRIU integration; `checkpoint --help` fails so that engines probing for support see none.
import { UsageError, type FlagDef } from './flags';
import type { Command } from './command';

// Shared by both commands, in runc's order.
const CRIU_FLAGS: FlagDef[] = [
  { name: 'image-path', type: 'string', usage: 'path for saving criu image files' },
  { name: 'work-path', type: 'string', usage: 'path for saving work files and logs' },
  { name: 'tcp-established', type: 'bool', usage: 'allow open tcp connections' },
  { name: 'ext-unix-sk', type: 'bool', usage: 'allow external unix sockets' },
  { name: 'shell-job', type: 'bool', usage: 'allow shell jobs' },
  { name: 'file-locks', type: 'bool', usage: 'handle file locks, for safety' },
  { name: 'manage-cgroups-mode', type: 'string', usage: "cgroups mode: 'soft' (default), 'full' and 'strict'" },
  { name: 'empty-ns', type: 'strings', usage: "create a namespace, but don't restore its properties" },
  { name: 'auto-dedup', type: 'bool', usage: 'enable auto deduplication of memory images' },
  { name: 'lazy-pages', type: 'bool', usage: 'use userfaultfd to lazily restore memory pages' },
];

export const CHECKPOINT_FLAGS: FlagDef[] = [
  ...CRIU_FLAGS,
  { name: 'parent-path', type: 'string', usage: 'path for previous criu image files in pre-dump' },
  { name: 'leave-running', type: 'bool', usage: 'leave the process running after checkpointing' },
  { name: 'status-fd', type: 'int', usage: "criu writes \\0 to this FD once lazy-pages is ready", default: -1 },
  { name: 'page-server', type: 'string', usage: 'ADDRESS:PORT of the page server' },
  { name: 'pre-dump', type: 'bool', usage: "dump container's memory information only, leave the container running after this" },
];

// go-runc spells these with one dash (`-detach`, `-no-subreaper`); the Go-style parser takes both.
export const RESTORE_FLAGS: FlagDef[] = [
  ...CRIU_FLAGS,
  { name: 'console-socket', type: 'string', usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'bundle', type: 'string', usage: 'path to the root of the bundle directory', aliases: ['b'] },
  { name: 'pid-file', type: 'string', usage: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'bool', usage: 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk' },
  { name: 'detach', type: 'bool', usage: "detach from the container's process", aliases: ['d'] },
  { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' },
  { name: 'lsm-profile', type: 'string', usage: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.' },
  { name: 'lsm-mount-context', type: 'string', usage: 'Specify an LSM mount context to be used during restore.' },
];

export const NO_CRIU = 'ocirun is built without checkpoint/restore (CRIU) support';

function criuCommand(name: 'checkpoint' | 'restore', flags: FlagDef[]): Command {
  return {
    usage: name,
    args: '<container-id>',
    flags,
    // Answering the probe truthfully: podman and containerd treat a zero `checkpoint --help` as "supported".
    help: () => {
      throw new UsageError(`${name}: ${NO_CRIU}`);
    },
    run(_g, _f, args) {
      const id = args[0] ? ` ${args[0]}` : '';
      throw new Error(`${name}${id}: ${NO_CRIU}`);
    },
  };
}

export const checkpoint = criuCommand('checkpoint', CHECKPOINT_FLAGS);
export const restore = criuCommand('restore', RESTORE_FLAGS);
