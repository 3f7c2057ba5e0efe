import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { methodTable, PAPER_TABLES } from '../repro/paperTables.js';
import { reproduce } from '../repro/reproduce.js';
import { baseDirs, REPRO_PRESETS, reproPreset } from '../repro/reproPresets.js';
import { recordReportRedraw, writeReproReport } from '../repro/reproReport.js';
import { BASE_L_NAME, BASE_S_NAME, readUnits } from '../repro/reproUnits.js';
import { numberFlag, stringFlag, UsageError, type Flag, type ParsedArgs } from '../util/args.js';
import { queueConnection } from '../queue/queueConnection.js';
import { reproduceOnQueue } from '../queue/queueReproduce.js';
import { defineCommand } from './command.js';
import { BACKEND, EMOJI_FLAGS, FORCE, JUDGES, WORKERS, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { SHIPPED_BASE_S } from './sampleCommand.js';

export const REPRODUCE_FLAGS = [
  { name: 'preset', value: 'NAME', help: `${Object.keys(REPRO_PRESETS).join('|')} (default: quick)` },
  { name: 'out', value: 'DIR', help: 'the tables, figures and unit records (default: results/<preset>)' },
  { name: 'work', value: 'DIR', help: "the units' run folders (default: runs/reproduce/<preset>)" },
  { name: 'base', value: 'DIR', help: "base-S's folder (default: the preset's, data/base-s)" },
  { name: 'base-l', value: 'DIR', help: "base-L's folder (default: the preset's, data/base-l)" },
  JUDGES,
  { name: 'report-only', help: 'redraw the tables and figures from the units already there' },
  { name: 'queue', value: 'URL', help: 'redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS): send the units to queue workers (npm run worker) and collect their records here' },
  { name: 'attempts', value: 'N', help: '--queue: tries per unit before it is marked failed (default: 3)' },
  FORCE,
  WORKERS,
  BACKEND,
  ...EMOJI_FLAGS,
] as const satisfies readonly Flag[];

/** What `start` sets where `reproduce` takes flags. */
interface ReproduceDefaults {
  preset?: string;
  out?: string;
  work?: string;
  command?: string;
  baseGrid?: string;
}

/**
 * The whole protocol into results/<preset>/ (resumable: rerun the same command after a kill), or
 * with --report-only the tables and figures redrawn from the units already there. With --queue
 * redis://HOST:PORT its units go to queue workers (`npm run worker`) and their records land here
 * as they finish.
 */
export async function runReproduction(args: ParsedArgs<(typeof REPRODUCE_FLAGS)[number]['name']>, argv: string[], defaults: ReproduceDefaults = {}): Promise<void> {
  const preset = reproPreset(stringFlag(args, 'preset') ?? defaults.preset ?? 'quick');
  const out = stringFlag(args, 'out') ?? defaults.out ?? join('results', preset.name);
  const started = Date.now();
  const written =
    args.flags['report-only'] === true
      ? (recordReportRedraw(out, `${defaults.command ?? 'npm run reproduce --'} ${argv.join(' ')}`.trim()), await writeReproReport(out))
      : await (async () => {
          const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
          // Each base's folder where a flag names another than the preset's.
          const named: Array<[string, string | undefined]> = [
            [BASE_S_NAME, stringFlag(args, 'base')],
            [BASE_L_NAME, stringFlag(args, 'base-l')],
          ];
          const bases = Object.fromEntries(named.filter((e): e is [string, string] => e[1] !== undefined));
          const dirs = baseDirs(preset, bases);
          const data = await openEmojiFromFlags(args, readModelFile(dirs[preset.bases[0]?.name ?? ''] ?? SHIPPED_BASE_S).file.model.resolution);
          const work = stringFlag(args, 'work') ?? defaults.work ?? join('runs', 'reproduce', preset.name);
          const judges = stringFlag(args, 'judges') as string;
          const command = `${defaults.command ?? 'npm run reproduce --'} ${argv.join(' ')}`.trim();
          if (typeof args.flags['queue'] === 'string') {
            // Finished units stay on the queue under their identity: starting over is not the coordinator's to do.
            if (args.flags['force'] === true) throw new UsageError('--force and --queue do not go together: start over locally, or with a new Redis database (redis://HOST:PORT/N)');
            const attempts = numberFlag(args, 'attempts', 3);
            if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError(`--attempts: expected a whole number of at least 1, got ${attempts}`);
            return reproduceOnQueue(preset, data, { out, work, bases, judges, command, connection: queueConnection(args.flags['queue']), attempts });
          }
          return reproduce(preset, data, {
            out,
            work,
            bases,
            judges,
            workers: workersFlag(args, backend.tfBackend),
            force: args.flags['force'] === true,
            command,
            baseGrid: defaults.baseGrid,
          });
        })();
  // The short table: Table 2 on curated-val on the first base (when anything has been evaluated).
  const first = preset.bases[0];
  const table = methodTable(
    readUnits(out),
    PAPER_TABLES.table2.methods.filter((m) => first?.methods.includes(m)),
    first?.name ?? BASE_S_NAME,
  );
  if (table.numRows() > 0) {
    const curated = table.filter((d: { 'prompt set': string }) => d['prompt set'] === 'curated-val').select('method', 'seeds', 'Align', 'Align win %', 'R@1 %', 'Real', 'FID');
    console.log(`\n${PAPER_TABLES.table2.title} (curated-val)\n\n${curated.toMarkdown()}`);
  }
  console.log(`\nwrote, in ${((Date.now() - started) / 60000).toFixed(1)} min:\n${written.map((f) => `  ${f}`).join('\n')}`);
}

export const reproduceCommand = defineCommand({
  name: 'reproduce',
  summary: 'the whole protocol: pairs, every method x seed, evaluation, Tables 1-5, Figure 5 and the grids into results/<preset>',
  details: 'resumable: rerun the same command after a kill; a finished unit is never rerun.',
  flags: REPRODUCE_FLAGS,
  run: (args, argv) => runReproduction(args, argv),
});
