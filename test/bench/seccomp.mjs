// In-process benchmark: compileSeccomp on podman's default profile, bundled from src/ with esbuild on the fly
// (no runtime comparison applies); skipped with a reason while the compiler or the profile is missing.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median } from './report.mjs';

const SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';
export const SECCOMP_TARGET_MS = 10;

/**
 * Median wall time of compileSeccomp on podman's default profile as podman would pass it for x86_64 (with the
 * x86 and x32 sub-arches and podman's default capabilities). The compiler is bundled from source so this
 * needs no export from the executable.
 */
export async function seccompBench({ repoRoot, scratch, n }) {
  const compiler = path.join(repoRoot, 'src', 'seccomp', 'compile.ts');
  if (!fs.existsSync(compiler)) return { note: 'skipped: src/seccomp/compile.ts is not there yet' };
  if (!fs.existsSync(SECCOMP_PROFILE)) return { note: `skipped: ${SECCOMP_PROFILE} missing (apt install golang-github-containers-common)` };
  const esbuild = await import('esbuild');
  const outfile = path.join(scratch, 'seccomp-bench.cjs');
  await esbuild.build({
    stdin: {
      contents:
        "export { compileSeccomp } from './src/seccomp/compile';\n" +
        "export { podmanSeccomp } from './test/integration/helpers/podman-seccomp';\n",
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile,
    external: ['koffi'],
    define: { OCIRUN_VERSION: '"bench"', OCIRUN_COMMIT: '"bench"' },
    logLevel: 'warning',
  });
  const { compileSeccomp, podmanSeccomp } = createRequire(import.meta.url)(outfile);
  if (typeof compileSeccomp !== 'function') return { note: 'skipped: src/seccomp/compile.ts exports no compileSeccomp' };
  const profile = podmanSeccomp(SECCOMP_PROFILE, { arch: 'SCMP_ARCH_X86_64' });
  const first = compileSeccomp(profile, 'x86_64');
  // Compiling takes milliseconds, so many more rounds than the process benchmarks for a stable median.
  const rounds = Math.max(100, n * 10);
  const times = [];
  for (let i = 0; i < 10 + rounds; i += 1) {
    const t0 = process.hrtime.bigint();
    compileSeccomp(profile, 'x86_64');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 10) times.push(ms);
  }
  const names = profile.syscalls.reduce((k, s) => k + s.names.length, 0);
  return {
    name:
      `\`compileSeccomp\` of podman's default profile (${profile.architectures.join('+')}, ` +
      `${profile.syscalls.length} rules, ${names} names) → ${first.filter.length / 8} instructions`,
    rounds,
    median: median(times),
  };
}
