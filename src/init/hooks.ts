// The hooks around the init's own steps: asking the runtime to run prestart + createRuntime (MSG.HOOK round trip),
// and running createContainer itself, inside the container's namespaces, as runc's init does.
import { MSG, readMessage, writeMessage } from '../process/protocol';
import { envObject, hookState, runHooks, type HookBase } from '../process/hook';
import type { InitConfig } from './config';

const base = (cfg: InitConfig): HookBase => ({
  ociVersion: cfg.ociVersion,
  id: cfg.id,
  bundle: cfg.bundle,
  annotations: cfg.config.annotations,
});

// No message at all when there is nothing to run: the round trip would only cost start-up time.
export function requestRuntimeHooks(cfg: InitConfig, sock: number): void {
  const h = cfg.config.hooks;
  if (!h?.prestart?.length && !h?.createRuntime?.length) return;
  writeMessage(sock, MSG.HOOK);
  const m = readMessage(sock);
  if (m?.type === MSG.HOOK_DONE) return;
  // The runtime reports the hook's failure itself and kills us; this only ends the init quietly if it has not yet.
  if (m?.type === MSG.ERROR) throw new Error(m.payload.toString('utf8'));
  throw new Error(m ? `protocol: unexpected message ${m.type} instead of HOOK_DONE` : 'protocol: the runtime went away during the hooks');
}

// createContainer: after the mounts, before pivot_root, cwd the rootfs on the host's paths (runc chdirs there).
// pid is the init's pid as the container sees it: runtime.md says so for hooks run in the container namespace.
// A hook without env inherits the container process's environment, as runc's init passes on. (startContainer
// hooks are run by the stub's final stage: src/process/stage.ts stageHooks.)
export function runCreateContainerHooks(cfg: InitConfig): void {
  const inherited = envObject(cfg.config.process?.env ?? []);
  runHooks('createContainer', cfg.config.hooks, hookState(base(cfg), 'creating', process.pid), cfg.rootfs, inherited);
}
