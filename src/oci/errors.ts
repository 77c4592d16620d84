// ConfigError: the one error type for an unusable config.json, carrying the
// JSON path of the offending value (and line/column for syntax errors).

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** JSON path such as "mounts[2].destination"; "" for the document itself. */
  readonly path: string;
  /** The message without the path prefix. */
  readonly detail: string;
  /** 1-based position, set only for JSON syntax errors. */
  readonly line?: number;
  readonly column?: number;

  constructor(path: string, detail: string, position?: { line: number; column: number }) {
    super(path === '' ? detail : `${path}: ${detail}`);
    this.path = path;
    this.detail = detail;
    if (position) {
      this.line = position.line;
      this.column = position.column;
    }
  }
}
