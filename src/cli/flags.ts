// Command-line parsing with the semantics of Go's flag package, which runc's CLI is built on:
// -flag and --flag are the same, values come as -f=v or -f v, and parsing stops at the first argument.
export type FlagType = 'bool' | 'string' | 'int' | 'strings';

export interface FlagDef {
  name: string;
  type: FlagType;
  usage: string;
  aliases?: string[];
  default?: string | number | boolean;
  hidden?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends Error {}

export function parseFlags(defs: FlagDef[], argv: string[]): { values: FlagValues; rest: string[] } {
  const byName = new Map<string, FlagDef>();
  for (const d of defs) for (const n of [d.name, ...(d.aliases ?? [])]) byName.set(n, d);
  const values: FlagValues = {};
  for (const d of defs) if (d.default !== undefined) values[d.name] = d.default;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = byName.get(name);
    if (!def) throw new UsageError(`flag provided but not defined: -${name}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (def.type === 'bool') {
      if (value === undefined) values[def.name] = true;
      else if (/^(1|t|true|T|TRUE|True)$/.test(value)) values[def.name] = true;
      else if (/^(0|f|false|F|FALSE|False)$/.test(value)) values[def.name] = false;
      else throw new UsageError(`invalid boolean value "${value}" for -${name}: parse error`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[++i];
    }
    if (def.type === 'int') {
      values[def.name] = parseGoInt(value, name);
    } else if (def.type === 'strings') {
      const prev = values[def.name];
      values[def.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else values[def.name] = value;
  }
  return { values, rest: argv.slice(i) };
}

export function flagHelp(defs: FlagDef[]): string {
  return defs
    .filter((d) => !d.hidden)
    .map((d) => {
      const names = [d.name, ...(d.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
      const arg = d.type === 'bool' ? '' : ` value`;
      const def = d.default !== undefined && d.type !== 'bool' ? ` (default: ${JSON.stringify(d.default)})` : '';
      return `   ${(names + arg).padEnd(28)} ${d.usage}${def}`;
    })
    .join('\n');
}

// Go's strconv.ParseInt(s, 0, 64), which int flags use: an optional sign, then 0x/0o/0b/0 prefixes.
function parseGoInt(value: string, name: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(value);
  if (!m) throw new UsageError(`invalid value "${value}" for flag -${name}: parse error`);
  const body = m[2].replace(/_/g, '');
  const n = /^0[0-7]+$/.test(body) ? parseInt(body.slice(1), 8) : Number(body.replace(/^0[oO]/, '0o').replace(/^0[bB]/, '0b'));
  return m[1] === '-' ? -n : n;
}
