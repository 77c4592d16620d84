// Per-test scratch space and teardown: every container a test made is force-deleted,
// then the host is checked (and scrubbed) for leftovers, failing the test if any remain.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { makeBundle, type Bundle, type BundleOptions } from './bundle';
import { scratchBase } from './env';
import {
  forceClean,
  isEmpty,
  scanCgroups,
  scanMounts,
  scanProcesses,
  summarize,
  type InodeKey,
  type Leftovers,
} from './leftovers';
import { del, listIds, makeRuntime, settleBackground, sleepMs, type Runtime, type RuntimeName } from './runtime';

export interface Sandbox {
  /** A fresh directory inside the current test's scratch dir. */
  dir(name: string): string;
  /** A runtime handle with its own --root inside the test's scratch dir. */
  runtime(name: RuntimeName): Runtime;
  /** A bundle (config.json + private rootfs copy) inside the test's scratch dir. */
  bundle(opts?: BundleOptions, name?: string): Bundle;
  /** Records a container id so teardown force-deletes it even if `list` cannot see it. */
  track(rt: Runtime, id: string): string;
  /** The current test's scratch dir. */
  readonly testDir: string;
}

interface TestScope {
  dir: string;
  runtimes: Runtime[];
  tracked: Map<Runtime, Set<string>>;
  rootfsDirs: string[];
  names: Map<string, number>;
}

let testCounter = 0;

function inodeOf(p: string): InodeKey | undefined {
  try {
    const st = fs.statSync(p);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

function collectLeftovers(scope: TestScope, allIds: string[]): Leftovers {
  const inodes = scope.rootfsDirs.map(inodeOf).filter((k): k is InodeKey => k !== undefined);
  const stateDirs: string[] = [];
  for (const rt of scope.runtimes) {
    for (const id of allIds) {
      const d = path.join(rt.root, id);
      if (fs.existsSync(d)) stateDirs.push(d);
    }
  }
  return {
    processes: scanProcesses(scratchBase(), inodes),
    mounts: scanMounts(scope.dir),
    cgroups: scanCgroups(allIds),
    stateDirs,
  };
}

/** Registers the hooks for a test file; call once at file top level. */
export function useSandbox(): Sandbox {
  let scope: TestScope | undefined;

  const current = (): TestScope => {
    if (scope === undefined) throw new Error('sandbox used outside a test');
    return scope;
  };

  const uniqueName = (s: TestScope, name: string): string => {
    const n = (s.names.get(name) ?? 0) + 1;
    s.names.set(name, n);
    return n === 1 ? name : `${name}${n}`;
  };

  beforeEach(() => {
    testCounter += 1;
    const dir = path.join(scratchBase(), `t${testCounter}`);
    fs.mkdirSync(dir, { recursive: true });
    scope = { dir, runtimes: [], tracked: new Map(), rootfsDirs: [], names: new Map() };
  });

  afterEach(async () => {
    const s = scope;
    scope = undefined;
    if (s === undefined) return;
    // A foreground `run` the test left running is itself a leftover; it must not keep
    // holding the container while teardown deletes it.
    const stray = await settleBackground();
    const allIds = new Set<string>();
    for (const rt of s.runtimes) {
      const ids = new Set<string>([...(s.tracked.get(rt) ?? []), ...listIds(rt)]);
      for (const id of ids) {
        allIds.add(id);
        del(rt, id, true);
      }
    }
    // SIGKILLed inits are reaped asynchronously; allow a short grace period before calling them leftovers.
    let left = collectLeftovers(s, [...allIds]);
    const deadline = Date.now() + 3_000;
    while (!isEmpty(left) && Date.now() < deadline) {
      sleepMs(50);
      left = collectLeftovers(s, [...allIds]);
    }
    if (!isEmpty(left)) forceClean(left);
    fs.rmSync(s.dir, { recursive: true, force: true });
    const strayNote = stray > 0 ? `${stray} background runtime process(es) still running\n` : '';
    if (!isEmpty(left) || stray > 0) {
      throw new Error(`test left things behind (now removed):\n${strayNote}${summarize(left)}`);
    }
  });

  afterAll(() => {
    const base = scratchBase();
    const mounts = scanMounts(base);
    if (mounts.length > 0) forceClean({ processes: [], mounts, cgroups: [], stateDirs: [] });
    fs.rmSync(base, { recursive: true, force: true });
    if (mounts.length > 0) throw new Error(`mounts left under ${base}:\n${mounts.join('\n')}`);
  });

  return {
    dir(name: string): string {
      const s = current();
      const d = path.join(s.dir, uniqueName(s, name));
      fs.mkdirSync(d, { recursive: true });
      return d;
    },
    runtime(name: RuntimeName): Runtime {
      const s = current();
      const rt = makeRuntime(name, path.join(s.dir, uniqueName(s, `root-${name}`)));
      s.runtimes.push(rt);
      return rt;
    },
    bundle(opts: BundleOptions = {}, name = 'bundle'): Bundle {
      const s = current();
      const b = makeBundle(path.join(s.dir, uniqueName(s, name)), opts);
      s.rootfsDirs.push(b.rootfs);
      return b;
    },
    track(rt: Runtime, id: string): string {
      const s = current();
      let set = s.tracked.get(rt);
      if (set === undefined) {
        set = new Set();
        s.tracked.set(rt, set);
      }
      set.add(id);
      return id;
    },
    get testDir(): string {
      return current().dir;
    },
  };
}
