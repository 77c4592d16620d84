// Entry point of the ocirun executable.
// Owns the start-up path: scrub Node's variables, run `init` without the CLI, else the CLI.

// An SEA binary honours these; they must not reach the processes we start (or re-exec ourselves as).
for (const k of Object.keys(process.env)) {
  if (k.startsWith('NODE_') || k === 'UV_THREADPOOL_SIZE') delete process.env[k];
}

const argv = process.argv.slice(2);
if (argv[0] === 'init') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./init') as typeof import('./init')).initMain();
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  void (require('./cli') as typeof import('./cli')).main(argv);
}
