import { parseArgs as nodeParseArgs } from 'node:util';

/**
 * A command line the program cannot read (an unknown flag or command, a missing or unparsable
 * value): the CLI exits with 2 for it, as usage errors do by convention, and 1 for failures.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * One command-line flag, the single definition both the parser and the generated help read,
 * so that the help cannot drift from what a command accepts.
 */
export interface Flag {
  readonly name: string;
  /** The value's placeholder in the help (N, DIR, FILE, ...); a flag without one is a switch. */
  readonly value?: string;
  /** Filled in by the parser when the flag is absent, and shown in the help. */
  readonly default?: string;
  readonly help: string;
}

/** The flags of a command line, by name: a string for flags with values, true for switches. */
export interface ParsedArgs<Name extends string = string> {
  readonly positional: string[];
  readonly flags: Partial<Record<Name, string | boolean>>;
}

/** Accept bare words; off by default, so that a stray word is an error, not ignored. */
export interface ParseOptions {
  readonly positional?: boolean;
}

/** The name in node's parse error ("Option '--out <value>' argument missing"), as "--out". */
function optionIn(message: string): string {
  return /'(-[^' ]+)/.exec(message)?.[1] ?? 'a flag';
}

/**
 * Parse `--name value`, `--name=value` and bare `--switch` against `flags` with node's
 * util.parseArgs (strict), its errors reworded as UsageErrors naming the flag.
 */
export function parseArgs<const F extends readonly Flag[]>(argv: readonly string[], flags: F, options: ParseOptions = {}): ParsedArgs<F[number]['name']> {
  const spec: Record<string, { type: 'string' | 'boolean'; default?: string }> = {};
  for (const f of flags) spec[f.name] = f.value === undefined ? { type: 'boolean' } : { type: 'string', ...(f.default !== undefined ? { default: f.default } : {}) };
  try {
    const { values, positionals } = nodeParseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: options.positional === true });
    return { positional: positionals, flags: values as Partial<Record<F[number]['name'], string | boolean>> };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const known = flags.map((f) => `--${f.name}`).join(', ');
      throw new UsageError(`unknown flag ${optionIn(message)} (known: ${known || 'none'})`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument "${/'([^']*)'/.exec(message)?.[1] ?? ''}" (flags start with --)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = optionIn(message);
      throw new UsageError(/does not take an argument/.test(message) ? `${name} takes no value` : `${name} needs a value`);
    }
    throw err;
  }
}

/** A numeric flag, or `fallback`; an unparsable value is an error naming the flag. */
export function numberFlag<Name extends string>(args: ParsedArgs<Name>, name: Name, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got "${String(v)}"`);
  return n;
}

/** A string flag's value (a switch given where a value belongs cannot parse, so this is total). */
export function stringFlag<Name extends string>(args: ParsedArgs<Name>, name: Name): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** The help lines of `flags`: name, placeholder, what it does, its default. */
export function flagHelp(flags: readonly Flag[]): string {
  const heads = flags.map((f) => `--${f.name}${f.value !== undefined ? ` ${f.value}` : ''}`);
  const width = Math.min(28, Math.max(0, ...heads.map((h) => h.length)));
  return flags
    .map((f, i) => {
      const head = heads[i] as string;
      const text = `${f.help}${f.default !== undefined ? ` (default: ${f.default})` : ''}`;
      return head.length > width ? `  ${head}\n  ${' '.repeat(width)}  ${text}` : `  ${head.padEnd(width)}  ${text}`;
    })
    .join('\n');
}
