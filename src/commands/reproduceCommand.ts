import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { methodTable, PAPER_TABLES } from '../repro/paperTables.js';
import { reproduce } from '../repro/reproduce.js';
import { reproPreset } from '../repro/reproPresets.js';
import { recordReportRedraw, writeReproReport } from '../repro/reproReport.js';
import { readUnits } from '../repro/reproUnits.js';
import { parseArgs } from '../util/args.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { SHIPPED_BASE_S, workersFlag } from './sampleCommand.js';

const REPRODUCE_FLAGS = ['preset', 'out', 'work', 'base', 'judges', 'workers', 'backend', ...EMOJI_FLAGS];

/**
 * `npm run reproduce -- --preset quick|paper`: the whole protocol into results/<preset>/
 * (resumable: rerun the same command after a kill), or with --report-only the tables and
 * figures redrawn from the units already there.
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
          return reproduce(preset, data, {
            out,
            work: (args.flags['work'] as string | undefined) ?? defaults.work ?? join('runs', 'reproduce', preset.name),
            base,
            judges: (args.flags['judges'] as string | undefined) ?? join('data', 'judges'),
            workers: workersFlag(args, backend.tfBackend),
            force: args.flags['force'] === true,
            command: `${defaults.command ?? 'npm run reproduce --'} ${argv.join(' ')}`.trim(),
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
