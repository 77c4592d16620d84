// End of a bench run, successful or not: delete every container through its runtime, stop the timer servers,
// then check with the integration tests' leftover scanners that nothing of this run remains, and force it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { control } from './runtimes.mjs';

/**
 * The scanners are TypeScript (test/integration/helpers/leftovers.ts, type-only syntax): Node 24 strips the
 * types itself, but warns that package.json has no "type"; that one warning is noise here.
 */
async function loadScanners(repoRoot) {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.code !== 'MODULE_TYPELESS_PACKAGE_JSON') for (const l of listeners) l(w);
  });
  return import(path.join(repoRoot, 'test', 'integration', 'helpers', 'leftovers.ts'));
}

/** Returns the list of problems (empty: clean). rootfs: the shared rootfs, to recognise container processes. */
export async function cleanUp({ repoRoot, scratch, runtimes, rootfs }) {
  control.cleaning = true;
  const problems = [];
  for (const rt of runtimes) {
    try {
      problems.push(...(await rt.removeAll()));
    } catch (e) {
      problems.push(`${rt.name}: ${e.message}`);
    }
  }
  for (const rt of runtimes) await rt.timer.close().catch(() => {});
  const scan = await loadScanners(repoRoot);
  const ids = runtimes.flatMap((rt) => rt.ids);
  let inodes = [];
  try {
    const st = fs.statSync(rootfs);
    inodes = [{ dev: st.dev, ino: st.ino }];
  } catch {
    // No rootfs was built: no container can have run.
  }
  const found = () => ({
    processes: scan.scanProcesses(scratch, inodes),
    mounts: scan.scanMounts(scratch),
    cgroups: scan.scanCgroups(ids),
    stateDirs: runtimes.map((rt) => rt.root).filter((r) => fs.existsSync(r) && fs.readdirSync(r).length > 0),
  });
  let left = found();
  if (!scan.isEmpty(left)) {
    problems.push(`left behind, removing by force:\n${scan.summarize(left)}`);
    scan.forceClean(left);
    left = found();
    if (!scan.isEmpty(left)) problems.push(`still there:\n${scan.summarize(left)}`);
  }
  // State dirs, pid files, bundles and the timer binary all live in scratch.
  fs.rmSync(scratch, { recursive: true, force: true });
  return problems;
}
