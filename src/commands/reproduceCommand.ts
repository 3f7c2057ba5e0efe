import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { methodTable, PAPER_TABLES } from '../repro/paperTables.js';
import { reproduce } from '../repro/reproduce.js';
import { reproPreset } from '../repro/reproPresets.js';
import { recordReportRedraw, writeReproReport } from '../repro/reproReport.js';
import { readUnits } from '../repro/reproUnits.js';
import { numberFlag, parseArgs, UsageError } from '../util/args.js';
import { queueConnection } from '../queue/queueConnection.js';
import { reproduceOnQueue } from '../queue/queueReproduce.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { SHIPPED_BASE_S, workersFlag } from './sampleCommand.js';

const REPRODUCE_FLAGS = ['preset', 'out', 'work', 'base', 'judges', 'workers', 'backend', 'queue', 'attempts', ...EMOJI_FLAGS];

/**
 * `npm run reproduce -- --preset quick|paper`: the whole protocol into results/<preset>/
 * (resumable: rerun the same command after a kill), or with --report-only the tables and
 * figures redrawn from the units already there. With --queue redis://HOST:PORT its units go to
 * queue workers (`npm run worker`) and their records land here as they finish.
 */
export async function reproduceCommand(argv: string[], defaults: { preset?: string; out?: string; work?: string; command?: string; baseGrid?: string } = {}): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force', 'report-only'], string: REPRODUCE_FLAGS });
  const preset = reproPreset((args.flags['preset'] as string | undefined) ?? defaults.preset ?? 'quick');
  const out = (args.flags['out'] as string | undefined) ?? defaults.out ?? join('results', preset.name);
  const started = Date.now();
  const written =
    args.flags['report-only'] === true
      ? (recordReportRedraw(out, `${defaults.command ?? 'npm run reproduce --'} ${argv.join(' ')}`.trim()), await writeReproReport(out))
      : await (async () => {
          const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
          const base = (args.flags['base'] as string | undefined) ?? SHIPPED_BASE_S;
          const data = await openEmojiFromFlags(args, readModelFile(base).file.model.resolution);
          const work = (args.flags['work'] as string | undefined) ?? defaults.work ?? join('runs', 'reproduce', preset.name);
          const judges = (args.flags['judges'] as string | undefined) ?? join('data', 'judges');
          const command = `${defaults.command ?? 'npm run reproduce --'} ${argv.join(' ')}`.trim();
          if (typeof args.flags['queue'] === 'string') {
            // Finished units stay on the queue under their identity: starting over is not the coordinator's to do.
            if (args.flags['force'] === true) throw new UsageError('--force and --queue do not go together: start over locally, or with a new Redis database (redis://HOST:PORT/N)');
            const attempts = numberFlag(args, 'attempts', 3);
            if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError(`--attempts: expected a whole number of at least 1, got ${attempts}`);
            return reproduceOnQueue(preset, data, { out, work, base, judges, command, connection: queueConnection(args.flags['queue']), attempts });
          }
          return reproduce(preset, data, {
            out,
            work,
            base,
            judges,
            workers: workersFlag(args, backend.tfBackend),
            force: args.flags['force'] === true,
            command,
            baseGrid: defaults.baseGrid,
          });
        })();
  // The short table: Table 2 on curated-val (when anything has been evaluated).
  const table = methodTable(
    readUnits(out),
    PAPER_TABLES.table2.methods.filter((m) => preset.methods.includes(m)),
  );
  if (table.numRows() > 0) {
    const curated = table.filter((d: { 'prompt set': string }) => d['prompt set'] === 'curated-val').select('method', 'seeds', 'Align', 'Align win %', 'R@1 %', 'Real', 'FID');
    console.log(`\n${PAPER_TABLES.table2.title} (curated-val)\n\n${curated.toMarkdown()}`);
  }
  console.log(`\nwrote, in ${((Date.now() - started) / 60000).toFixed(1)} min:\n${written.map((f) => `  ${f}`).join('\n')}`);
}
