// The hooks the runtime runs itself, in the runtime namespace: prestart + createRuntime when the init asks (MSG.HOOK),
// poststart after start, poststop after delete. Owns their status/pid values (runc's) and what a failure does.
import { OCI_VERSION, type Spec } from '../oci';
import { warn } from '../log';
import { MSG, writeMessage } from '../process/protocol';
import { HookError, hookState, runHook, runHooks, type HookBase, type HookStatus } from '../process/hook';
import type { StoredState } from './state';

export interface Container {
  id: string;
  bundle: string;
  annotations?: Record<string, string>;
}

const base = (c: Container): HookBase => ({ ociVersion: OCI_VERSION, id: c.id, bundle: c.bundle, annotations: c.annotations });

// The init stops after its mounts, before pivot_root, and waits for HOOK_DONE. runc passes status "creating" and
// the init's host pid. A failure is answered with ERROR and thrown: create's undo then kills the init.
export function answerHookRequest(sock: number, spec: Spec, c: Container, pid: number, cwd: string): void {
  const state = hookState(base(c), 'creating', pid);
  try {
    runHooks('prestart', spec.hooks, state, cwd);
    runHooks('createRuntime', spec.hooks, state, cwd);
  } catch (e) {
    try {
      writeMessage(sock, MSG.ERROR, (e as Error).message);
    } catch {
      /* the init is gone already */
    }
    // The same words as a createContainer failure reported by the init.
    throw new HookError(`unable to start container process: ${(e as Error).message}`);
  }
  writeMessage(sock, MSG.HOOK_DONE);
}

// runtime.md lifecycle step 9: after the user's program runs. A failure is the caller's to act on (the spec
// says: error, stop the container, destroy it).
export function runPoststart(s: StoredState, status: HookStatus, cwd: string): void {
  runHooks('poststart', s.config.hooks, hookState(base(s), status, status === 'stopped' ? undefined : s.pid), cwd);
}

// Step 13: after the container is gone. "If any poststop hook fails, the runtime MUST log a warning, but the
// remaining hooks and lifecycle continue as if the hook had succeeded." (runc 1.1.5 stops at the first failure.)
export function runPoststop(spec: Spec, c: Container, cwd: string): void {
  const state = hookState(base(c), 'stopped');
  for (const [i, h] of (spec.hooks?.poststop ?? []).entries()) {
    try {
      runHook('poststop', i, h, state, cwd);
    } catch (e) {
      warn((e as Error).message);
    }
  }
}
