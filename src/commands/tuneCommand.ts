import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { keepTuningRun, writeTuningReport } from '../report/tuningReport.js';
import { postTrain } from '../train/postTrain.js';
import { resolvePostTrainConfig } from '../train/postTrainConfig.js';
import { numberFlag, parseArgs, UsageError } from '../util/args.js';
import { queueConnection } from '../queue/queueConnection.js';
import { tuneOnQueue, type TuneSetting } from '../queue/queueTune.js';
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
 * in the table. With --queue redis://HOST:PORT each setting is a job for the queue's workers.
 */
export async function tuneCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    boolean: ['force', 'report-only'],
    string: ['method', 'lrs', 'betas', 'steps', 'seed', 'base', 'out', 'results', 'workers', 'backend', 'queue', 'attempts', ...EMOJI_FLAGS],
  });
  if (args.flags['report-only'] === true) {
    // Redraw the report from the runs kept in --results, training nothing.
    const dir = (args.flags['results'] as string | undefined) ?? join('results', 'tuning');
    console.log(`wrote ${await writeTuningReport(dir, machineLine())}`);
    return;
  }
  const base = postTrainConfigFromArgs(args);
  const lrs = numberList(args.flags['lrs'], 'lrs', base.train.lr);
  const betas = numberList(args.flags['betas'], 'betas', base.loss.beta);
  const method = (args.flags['method'] as string | undefined) ?? 'self-dpo';
  const out = (args.flags['out'] as string | undefined) ?? join('runs', 'tuning');
  const results = (args.flags['results'] as string | undefined) ?? join('results', 'tuning');
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const workers = workersFlag(args, backend.tfBackend);
  const resolution = readModelFile(base.base).file.model.resolution;
  const data = await openEmojiFromFlags(args, resolution);
  const settings: TuneSetting[] = [];
  for (const lr of lrs) {
    for (const beta of betas) {
      const config = resolvePostTrainConfig({ ...base, train: { ...base.train, lr }, loss: { ...base.loss, beta } }, 'sweep');
      const name = `${method}-lr${lr}-beta${beta}-steps${config.train.steps}-seed${config.train.seed}`;
      const runDir = join(out, name);
      settings.push({
        name,
        config,
        command: `npm run post-train -- --method ${method} --lr ${lr} --beta ${beta} --steps ${config.train.steps} --seed ${config.train.seed} --out ${runDir}   # via npm run tune -- ${argv.join(' ')}`,
      });
    }
  }
  if (typeof args.flags['queue'] === 'string') {
    // Each setting is a job; queue workers train them and their records land in --results.
    if (args.flags['force'] === true) throw new UsageError('--force and --queue do not go together: a finished setting stays on the queue under its identity');
    const attempts = numberFlag(args, 'attempts', 3);
    if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError(`--attempts: expected a whole number of at least 1, got ${attempts}`);
    const connection = queueConnection(args.flags['queue']);
    await tuneOnQueue(settings, data, { results, connection, attempts, log: (line) => console.error(line) });
    console.log(`wrote ${await writeTuningReport(results, `runs trained by the workers of the queue ${connection.shown}`)}`);
    return;
  }
  for (const { name, config, command } of settings) {
    const runDir = join(out, name);
    console.error(`tuning: ${name}`);
    await postTrain(config, await emojiTrainData(data, config, resolution), runDir, { force: args.flags['force'] === true, workers, command });
    keepTuningRun(runDir, results, name);
  }
  const readme = await writeTuningReport(results, `${machineLine()}, tfjs ${backend.tfBackend}, ${workers} thread(s)`);
  console.log(`wrote ${readme}`);
}
