import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { keepTuningRun, writeTuningReport } from '../report/tuningReport.js';
import { postTrain } from '../train/postTrain.js';
import { resolvePostTrainConfig } from '../train/postTrainConfig.js';
import { withRunLocks } from '../runs/runLock.js';
import { parseArgs } from '../util/args.js';
import { machineLine } from '../util/machine.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { workersFlag } from './sampleCommand.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { postTrainConfigFromArgs } from './postTrainCommand.js';

/** A comma-separated list of numbers from a flag. */
function numberList(value: string | boolean | undefined, flag: string, fallback: number): number[] {
  if (value === undefined) return [fallback];
  const parts = String(value)
    .split(',')
    .map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === '') || out.some((x) => !Number.isFinite(x))) throw new Error(`--${flag}: expected comma-separated numbers, got "${String(value)}"`);
  return out;
}

/**
 * A grid sweep of LR x beta for one method, each a normal (resumable) training run under
 * --out, then the report in --results from every run kept there: runs of earlier sweeps stay
 * in the table.
 */
export async function tuneCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force', 'report-only'], string: ['method', 'lrs', 'betas', 'steps', 'seed', 'base', 'out', 'results', 'workers', 'backend', ...EMOJI_FLAGS] });
  if (args.flags['report-only'] === true) {
    // Redraw the report from the runs kept in --results, training nothing.
    const dir = (args.flags['results'] as string | undefined) ?? join('results', 'tuning');
    console.log(`wrote ${await withRunLocks([dir], () => writeTuningReport(dir, machineLine()))}`);
    return;
  }
  const base = postTrainConfigFromArgs(args);
  const lrs = numberList(args.flags['lrs'], 'lrs', base.train.lr);
  const betas = numberList(args.flags['betas'], 'betas', base.loss.beta);
  const method = (args.flags['method'] as string | undefined) ?? 'self-dpo';
  const out = (args.flags['out'] as string | undefined) ?? join('runs', 'tuning');
  const results = (args.flags['results'] as string | undefined) ?? join('results', 'tuning');
  const resolution = readModelFile(base.base).file.model.resolution;
  // One sweep at a time in its runs folder and its report folder, as a reproduction holds its work folder.
  await withRunLocks([out, results], () => sweep());

  async function sweep(): Promise<void> {
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const workers = workersFlag(args, backend.tfBackend);
    const data = await openEmojiFromFlags(args, resolution);
    for (const lr of lrs) {
      for (const beta of betas) {
        const config = resolvePostTrainConfig({ ...base, train: { ...base.train, lr }, loss: { ...base.loss, beta } }, 'sweep');
        const name = `${method}-lr${lr}-beta${beta}-steps${config.train.steps}-seed${config.train.seed}`;
        const runDir = join(out, name);
        console.error(`tuning: ${name}`);
        await postTrain(config, await emojiTrainData(data, config, resolution), runDir, {
          force: args.flags['force'] === true,
          workers,
          command: `npm run post-train -- --method ${method} --lr ${lr} --beta ${beta} --steps ${config.train.steps} --seed ${config.train.seed} --out ${runDir}   # via npm run tune -- ${argv.join(' ')}`,
        });
        keepTuningRun(runDir, results, name);
      }
    }
    const readme = await writeTuningReport(results, `${machineLine()}, tfjs ${backend.tfBackend}, ${workers} thread(s)`);
    console.log(`wrote ${readme}`);
  }
}
