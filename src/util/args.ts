/**
 * A command line the program cannot read (an unknown flag or command, a missing or unparsable
 * value): the CLI exits with 2 for it, as usage errors do by convention, and 1 for failures.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Command-line flags: `--name value`, `--name=value`, or a bare `--name` for booleans. */
export interface FlagSpec {
  readonly boolean?: readonly string[];
  readonly string?: readonly string[];
  /** Accept bare words; off by default, so that a stray word is an error, not ignored. */
  readonly positional?: boolean;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Record<string, string | boolean>;
}

/** Parse flags against a spec; an unknown flag or a missing value is an error naming it. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const booleans = new Set(spec.boolean ?? []);
  const strings = new Set(spec.string ?? []);
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      if (!spec.positional) throw new UsageError(`unexpected argument "${arg}" (flags start with --)`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (strings.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else {
      const known = [...booleans, ...strings].map((f) => `--${f}`).join(', ');
      throw new UsageError(`unknown flag --${name} (known: ${known || 'none'})`);
    }
  }
  return { positional, flags };
}

/** A numeric flag, or `fallback`; an unparsable value is an error naming the flag. */
export function numberFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got "${String(v)}"`);
  return n;
}
