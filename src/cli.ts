#!/usr/bin/env node
import { join } from 'node:path';
import { commandHelp, runCommand } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';
import { UsageError } from './util/args.js';
import { readJsonFile } from './util/jsonFile.js';

/** "selfdpo-lab 0.1.0", from the package.json beside src/ and dist/. */
function packageVersion(): string {
  const pkg = readJsonFile(join(__dirname, '..', 'package.json'), 'package.json') as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: selfdpo COMMAND [flags]     (npx selfdpo ..., or npm run COMMAND -- ...)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'selfdpo COMMAND --help lists its flags; selfdpo --version prints the version.',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') return void console.log(packageVersion());
  if (name === undefined || ['help', '--help', '-h'].includes(name)) return void console.log(overview());
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    if (name === 'train') throw new UsageError('the command "train" is now "post-train" (the name of its npm script)');
    throw new UsageError(`unknown command "${name}"\n\n${overview()}`);
  }
  if (rest.includes('--help') || rest.includes('-h')) return void console.log(commandHelp(command));
  await runCommand(command, rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`selfdpo: ${err instanceof Error ? err.message : String(err)}`);
  // 2 for a command line the program cannot read, 1 for everything that failed after.
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
