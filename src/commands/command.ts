import { flagHelp, parseArgs, type Flag, type ParsedArgs } from '../util/args.js';

/** One CLI command: its flags (parsed and documented from the same list) and what it does. */
export interface Command<F extends readonly Flag[] = readonly Flag[]> {
  readonly name: string;
  /** One line for the command list; the help's first line. */
  readonly summary: string;
  /** More help: what it writes, examples. */
  readonly details?: string;
  readonly flags: F;
  /** The bare words the command takes, as its help shows them (`status|retry`); none when absent. */
  readonly positional?: string;
  /** `argv` as given, for the command line a run records beside its results. */
  run(args: ParsedArgs<F[number]['name']>, argv: string[]): Promise<void>;
}

/** A command with its flag names inferred, so that reading an undeclared flag is a type error. */
export function defineCommand<const F extends readonly Flag[]>(command: Command<F>): Command<F> {
  return command;
}

export function commandHelp(command: Command): string {
  return [
    `usage: selfdpo ${command.name}${command.positional ? ` ${command.positional}` : ''} [flags]`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    '',
    flagHelp([...command.flags, { name: 'help', help: 'this help' }]),
  ].join('\n');
}

/** Parse `argv` against the command's flags and run it. */
export async function runCommand(command: Command, argv: string[]): Promise<void> {
  await command.run(parseArgs(argv, command.flags, { positional: command.positional !== undefined }), argv);
}
