// Entry points from file text to a checked, typed document: config.json for
// create/run and the process.json that exec takes.

import { parseJson } from './json';
import type { Process, Spec } from './spec';
import { validateProcess, validateSpec } from './validate';

/**
 * Parses and validates config.json text. Nothing is defaulted or rewritten;
 * unknown fields stay in the returned object. Throws ConfigError.
 */
export function parseConfig(text: string, source = 'config.json'): Spec {
  return validateSpec(parseJson(text, source));
}

/** Same for a standalone process object (runc exec --process). */
export function parseProcess(text: string, source = 'process.json'): Process {
  return validateProcess(parseJson(text, source));
}
