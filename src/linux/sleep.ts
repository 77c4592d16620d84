// A synchronous sleep for the short polling loops of a CLI that never yields to its event loop.
// Owns sleepMs.
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
