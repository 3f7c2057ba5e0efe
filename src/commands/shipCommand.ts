import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../data/emojiConfig.js';
import { EmojiT2I } from '../data/emojiDataset.js';
import { loadModel, saveModel } from '../model/modelFile.js';
import { loadTrainState } from '../optim/trainState.js';
import { writeChart } from '../report/renderChart.js';
import { heldoutChartSpec, heldoutTable, lossChartSpec } from '../report/pretrainReport.js';
import type { HeldoutRecord } from '../train/heldoutLoss.js';
import { CURATED_VAL_GRID_TEXT, curatedValSheet, drawCuratedValGrid } from '../report/curatedValGrid.js';
import { pixelDifference, type PixelDifference } from '../eval/pixelDifference.js';
import { readLineage } from '../train/lineage.js';
import { JsonLines } from '../runs/progress.js';
import { stringFlag, UsageError } from '../util/args.js';
import { defineCommand } from './command.js';
import { BACKEND, EMOJI_FLAGS, FORCE } from './commonFlags.js';
import { writeDirAtomic } from '../util/atomicDir.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';

/**
 * Ship a pretraining run: its EMA model with config, metrics and provenance into a model
 * directory (data/base-s), and its report (loss curve, held-out loss per timestep quartile,
 * sample grid of 8 curated-val prompts x 4 seeds) into a results directory.
 */
export const shipCommand = defineCommand({
  name: 'ship',
  summary: 'ship a pretraining run: its model into data/, its report (loss, held-out curves, samples) into results/',
  flags: [
    { name: 'run', value: 'DIR', help: 'the pretraining run folder (required)' },
    { name: 'to', value: 'DIR', default: 'data/base-s', help: 'the model folder to write' },
    { name: 'results', value: 'DIR', default: 'results/base-s', help: 'the report folder to write' },
    { name: 'name', value: 'NAME', default: 'base-S', help: "the model's name in its README and report" },
    { name: 'weights', value: 'ema|raw', default: 'ema', help: "the EMA weights, or the last checkpoint's raw ones (short runs)" },
    { name: 'dtype', value: 'float16|float32', default: 'float16', help: 'the shipped weights (every ship stays in git history)' },
    { name: 'beside', value: 'LABEL=DIR', help: 'also draw this model beside the shipped one, same prompts and seeds, into side-by-side.png (e.g. base-S=data/base-s)' },
    FORCE,
    BACKEND,
    EMOJI_FLAGS[0],
  ],
  async run(args, argv) {
    const run = stringFlag(args, 'run');
    if (run === undefined) throw new UsageError('give --run DIR (a pretraining run directory)');
    const to = stringFlag(args, 'to') as string;
    const results = stringFlag(args, 'results') as string;
    const name = stringFlag(args, 'name') as string;
    const force = args.flags['force'] === true;
    for (const target of [to, results]) if (existsSync(target) && !force) throw new Error(`${target} exists; pass --force to replace it`);
    const beside = besideFlag(stringFlag(args, 'beside'));
    const runInfo = readJsonFile(join(run, 'config.json'), 'run config') as {
      command?: string;
      invocations?: Array<{ command: string | null; fromStep: number; workers: number }>;
      data?: { emojiT2I?: unknown };
      config: { schedule: { steps: number } };
    };
    // A run continued from a shipped model carries that model's commands and records.
    const prior = readLineage(run);
    // Every command that trained the run (a resumed run has several), then this one.
    const commands = [
      ...(prior?.commands ?? []),
      ...(runInfo.invocations?.map((i) => `${i.command ?? '(not recorded)'}   # from step ${i.fromStep}, ${i.workers} thread(s)`) ?? [runInfo.command ?? '(command not recorded)']),
    ];
    const metrics = [...(prior?.metrics ?? []), ...new JsonLines(join(run, 'metrics.jsonl')).read()] as unknown as Array<{ step: number; loss: number; sec: number }>;
    const heldout = [...(prior?.heldout ?? []), ...(new JsonLines(join(run, 'heldout.jsonl')).read() as unknown as HeldoutRecord[])];
    await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const which = stringFlag(args, 'weights');
    if (which !== 'ema' && which !== 'raw') throw new UsageError(`--weights: expected ema or raw, got "${which}"`);
    // Shipped weights are float16 by default: every ship stays in git history.
    const dtype = stringFlag(args, 'dtype');
    if (dtype !== 'float16' && dtype !== 'float32') throw new UsageError(`--dtype: expected float16 or float32, got "${dtype}"`);
    const loaded = loadModel(join(run, 'model'));
    let step = Number(loaded.file.about['step']);
    if (which === 'raw') {
      // The raw (not averaged) weights of the last checkpoint: for short runs, where the EMA
      // still lags the weights by about 1/(1 - decay) steps.
      step = loadTrainState(join(run, 'state'), { weights: new Map(loaded.model.params.names.map((n) => [n, loaded.model.params.variable(n)])) }).step;
    }
    const command = `npm run ship -- ${argv.join(' ')}`.trim();
    const hours = metrics.reduce((s, m) => s + m.sec, 0) / 3600;
    const madeBy = ['```sh', ...commands, command, '```'];
    const T = runInfo.config.schedule.steps;
    const sets = [...new Set(heldout.map((h) => h.set))];

    await writeDirAtomic(to, async (tmp) => {
      const sub = join(tmp, 'model');
      const shippedSha256 = (await saveModel(sub, loaded.model, loaded.schedule, { ...loaded.file.about, step, weights: which, dtype }, loaded.model.params, dtype)).weightsManifest.sha256;
      for (const f of ['model.json', 'weights.bin']) renameSync(join(sub, f), join(tmp, f));
      rmSync(sub, { recursive: true, force: true });
      copyFileSync(join(run, 'config.json'), join(tmp, 'config.json'));
      // The records from step 0, the prior model's included.
      writeFileAtomic(join(tmp, 'metrics.jsonl'), metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
      writeFileAtomic(join(tmp, 'heldout.jsonl'), heldout.map((h) => `${JSON.stringify(h)}\n`).join(''));
      writeFileAtomic(join(tmp, 'README.md'), modelReadme({ name, which, step, steps: metrics.length, hours, sha256: shippedSha256, dtype, madeBy, results }));
    });
    console.log(`wrote ${to}`);

    await writeDirAtomic(results, async (tmp) => {
      await writeChart(lossChartSpec(metrics, `${name} pretraining loss`), join(tmp, 'loss'));
      for (const set of sets) await writeChart(heldoutChartSpec(heldout, set, T, `${name}: held-out denoising loss (${set}) per timestep quartile`), join(tmp, `heldout-${set}`));
      // The prompts come from the data the run trained on, when it is still there.
      const trainedOn = runInfo.data?.emojiT2I;
      const dir =
        typeof trainedOn === 'string' && existsSync(join(trainedOn, 'manifest.json'))
          ? trainedOn
          : (
              await ensureEmojiT2I(resolveEmojiDataConfig({ resolution: loaded.model.config.resolution }), {
                dataRoot: stringFlag(args, 'data-root') ?? defaultDataRoot(),
                log: (m) => console.error(m),
              })
            ).dir;
      const data = EmojiT2I.open(dir);
      const onImages = (d: number, n: number): void => console.error(`sampled ${d}/${n}`);
      const resolution = loaded.model.config.resolution;
      // The sheet shows what a user loads: the shipped weights. Rounding to float16 is checked
      // by drawing the same prompts and seeds from the weights before rounding.
      const shipped = loadModel(to);
      const grid = await drawCuratedValGrid(shipped.model, shipped.schedule, data, { onImages });
      let rounding: PixelDifference | undefined;
      if (dtype === 'float16') rounding = pixelDifference(grid.images.flat(), (await drawCuratedValGrid(loaded.model, loaded.schedule, data, { onImages })).images.flat());
      writeFileAtomic(join(tmp, 'samples.png'), await curatedValSheet([{ label: name, grid }], resolution, `${name} (step ${step}, ${which} weights): ${CURATED_VAL_GRID_TEXT}`));
      if (beside) {
        const other = loadModel(beside.dir);
        if (other.model.config.resolution !== resolution)
          throw new Error(`--beside ${beside.dir}: draws ${other.model.config.resolution}x${other.model.config.resolution}, ${name} ${resolution}x${resolution}`);
        const otherGrid = await drawCuratedValGrid(other.model, other.schedule, data, { onImages });
        other.model.params.dispose();
        const title = `${beside.label} (${beside.dir}) and ${name} (step ${step}): ${CURATED_VAL_GRID_TEXT}`;
        writeFileAtomic(
          join(tmp, 'side-by-side.png'),
          await curatedValSheet(
            [
              { label: beside.label, grid: otherGrid },
              { label: name, grid },
            ],
            resolution,
            title,
          ),
        );
      }
      shipped.model.params.dispose();
      writeFileAtomic(
        join(tmp, 'README.md'),
        [
          `# ${name}: pretraining report`,
          '',
          `Step ${step}; ${hours.toFixed(2)} h of training. Every file here was made by:`,
          '',
          ...madeBy,
          '',
          `- \`samples.png\`: the shipped weights on 8 curated-val prompts (captions of training concepts with keywords drawn from a seed training never uses) x seeds 0-3, DDIM 25 steps, guidance 3.${rounding ? ` The float16 weights draw it within a mean of ${rounding.mean.toFixed(3)}/255 per channel (largest ${rounding.max}/255) of what the float32 weights draw from the same prompts and seeds.` : ''}`,
          ...(beside ? [`- \`side-by-side.png\`: ${beside.label} (\`${beside.dir}\`) and ${name} on the same prompts and seeds as \`samples.png\`.`] : []),
          "- `loss.svg`/`.png`: training loss per step (faint) and its moving average: the MSE in the model's prediction space (v for a v-predicting model, eps otherwise); the held-out tables below are eps MSE.",
          ...sets.map((s) => `- \`heldout-${s}.svg\`/\`.png\`: held-out denoising loss on the fixed \`${s}\` probe, per timestep quartile, at each evaluation.`),
          '',
          ...sets.flatMap((s) => [`## Held-out denoising loss: \`${s}\``, '', heldoutTable(heldout, s, T), '']),
        ].join('\n'),
      );
    });
    loaded.model.params.dispose();
    console.log(`wrote ${results}`);
  },
});

/** `--beside LABEL=DIR`, read. */
function besideFlag(value: string | undefined): { label: string; dir: string } | undefined {
  if (value === undefined) return undefined;
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new UsageError(`--beside: expected LABEL=DIR, got "${value}"`);
  return { label: value.slice(0, eq), dir: value.slice(eq + 1) };
}

/** The shipped model folder's README: what the files are and the commands that made them. */
function modelReadme(m: { name: string; which: string; step: number; steps: number; hours: number; sha256: string; dtype: string; madeBy: string[]; results: string }): string {
  const kind = m.which === 'ema' ? 'EMA' : 'Raw (not averaged)';
  return [
    `# ${m.name}: the shipped base checkpoint`,
    '',
    `${kind} weights of a real pretraining run at step ${m.step} (${m.steps} steps logged, ${m.hours.toFixed(2)} h of training on this machine's wasm backend).`,
    `Content hash (sha256 of weights.bin): \`${m.sha256}\`.`,
    '',
    '| file | what |',
    '| --- | --- |',
    '| `model.json` | architecture, noise schedule, tokenizer vocabulary, weights manifest |',
    `| \`weights.bin\` | ${m.dtype} weights (${m.which === 'ema' ? 'EMA' : 'raw, not averaged'}) |`,
    '| `config.json` | the resolved pretraining config, parameter counts, FLOPs, data source |',
    '| `metrics.jsonl` | one line per training step: loss, gradient norm, learning rate, seconds |',
    '| `heldout.jsonl` | held-out denoising loss per timestep quartile at each evaluation |',
    '',
    'Made by:',
    '',
    ...m.madeBy,
    '',
    `Charts, tables and samples: \`${m.results}/\`.`,
    '',
  ].join('\n');
}
