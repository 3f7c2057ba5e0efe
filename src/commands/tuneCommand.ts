import { basename, join, resolve } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { readModelFile } from '../model/modelFile.js';
import { keepTuningRun, keptTuningRunFinished, writeTuningReport } from '../report/tuningReport.js';
import { postTrain } from '../train/postTrain.js';
import { methodSettings, resolvePostTrainConfig } from '../train/postTrainConfig.js';
import { getMethod } from '../methods/registry.js';
import { SHIPPED_BASE_S } from './sampleCommand.js';
import { withRunLocks } from '../runs/runLock.js';
import { numberFlag, stringFlag, UsageError } from '../util/args.js';
import { queueConnection } from '../queue/queueConnection.js';
import { tuneOnQueue, type TuneSetting } from '../queue/queueTune.js';
import { machineLine } from '../util/machine.js';
import { defineCommand } from './command.js';
import { BACKEND, EMOJI_FLAGS, FORCE, WORKERS, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { POST_TRAIN_CONFIG_FLAGS, postTrainConfigFromArgs } from './postTrainCommand.js';

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
export const tuneCommand = defineCommand({
  name: 'tune',
  summary: 'sweep LR (x beta for a preference method) for a method on a base, judged on its held-out probe only (never an evaluation prompt); the report in results/tuning',
  details: 'every setting is a normal resumable post-training run; runs of earlier sweeps stay in the table. With --queue each setting is a job for queue workers.',
  flags: [
    // Only the settings each run's recorded post-train command repeats (the method, steps, seed; lr and beta are swept).
    ...POST_TRAIN_CONFIG_FLAGS.filter((f) => ['method', 'steps', 'seed', 'base'].includes(f.name)),
    { name: 'lrs', value: 'X,Y,..', help: "learning rates to try (default: the config's)" },
    { name: 'betas', value: 'X,Y,..', help: "DPO betas to try (default: the config's)" },
    { name: 'out', value: 'DIR', default: 'runs/tuning', help: 'the run folders' },
    { name: 'results', value: 'DIR', default: 'results/tuning', help: 'the report and the runs kept' },
    { name: 'report-only', help: 'redraw the report from the runs kept in --results, training nothing' },
    { name: 'queue', value: 'URL', help: 'redis://[:PASSWORD@]HOST:PORT[/DB]: each setting a job for queue workers (npm run worker)' },
    { name: 'attempts', value: 'N', help: '--queue: tries per setting before it is marked failed (default: 3)' },
    FORCE,
    WORKERS,
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    if (args.flags['report-only'] === true) {
      // Redraw the report from the runs kept in --results, training nothing.
      const dir = stringFlag(args, 'results') as string;
      console.log(`wrote ${await withRunLocks([dir], () => writeTuningReport(dir, machineLine()))}`);
      return;
    }
    const base = postTrainConfigFromArgs(args);
    const lrs = numberList(args.flags['lrs'], 'lrs', base.train.lr);
    const betas = numberList(args.flags['betas'], 'betas', base.loss.beta);
    const method = stringFlag(args, 'method') as string;
    // beta only weighs a preference loss: a sweep of it for SFT would train the same model again and again.
    if (args.flags['betas'] !== undefined && getMethod(base.method).pairLoss(methodSettings(base)) === undefined) {
      throw new UsageError(`--betas: ${method} has no preference loss for beta to weigh; sweep --lrs alone`);
    }
    // Runs on another base than base-S carry its folder's name, so both bases' sweeps share runs/tuning and results/tuning.
    const baseTag = resolve(base.base) === resolve(SHIPPED_BASE_S) ? '' : `${basename(base.base)}-`;
    const out = stringFlag(args, 'out') as string;
    const results = stringFlag(args, 'results') as string;
    const resolution = readModelFile(base.base).file.model.resolution;
    const settings: TuneSetting[] = [];
    for (const lr of lrs) {
      for (const beta of betas) {
        const config = resolvePostTrainConfig({ ...base, train: { ...base.train, lr }, loss: { ...base.loss, beta } }, 'sweep');
        const name = `${baseTag}${method}-lr${lr}-beta${beta}-steps${config.train.steps}-seed${config.train.seed}`;
        settings.push({
          name,
          config,
          command: `npm run post-train -- --method ${method} --lr ${lr} --beta ${beta} --steps ${config.train.steps} --seed ${config.train.seed} --base ${config.base} --out ${join(out, name)}   # via npm run tune -- ${argv.join(' ')}`,
        });
      }
    }
    const queue = stringFlag(args, 'queue');
    if (queue !== undefined) {
      // Each setting is a job; queue workers train them and their records land in --results.
      if (args.flags['force'] === true) throw new UsageError('--force and --queue do not go together: a finished setting stays on the queue under its identity');
      const attempts = numberFlag(args, 'attempts', 3);
      if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError(`--attempts: expected a whole number of at least 1, got ${attempts}`);
      const connection = queueConnection(queue);
      const data = await openEmojiFromFlags(args, resolution);
      await withRunLocks([results], () => tuneOnQueue(settings, data, { results, connection, attempts, log: (line) => console.error(line) }));
      console.log(`wrote ${await writeTuningReport(results, `runs trained by the workers of the queue ${connection.shown}`)}`);
      return;
    }
    // One sweep at a time in its runs folder and its report folder, as a reproduction holds its work folder.
    await withRunLocks([out, results], () => sweep());

    async function sweep(): Promise<void> {
      const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
      const workers = workersFlag(args, backend.tfBackend);
      const data = await openEmojiFromFlags(args, resolution);
      for (const { name, config, command } of settings) {
        const runDir = join(out, name);
        // A finished setting is not invoked again (that would only add an empty invocation to its record).
        if (args.flags['force'] !== true && keptTuningRunFinished(results, name, config)) {
          console.error(`tuning: ${name}: finished, kept in ${join(results, 'runs', name)}`);
          continue;
        }
        console.error(`tuning: ${name}`);
        await postTrain(config, await emojiTrainData(data, config, resolution), runDir, { force: args.flags['force'] === true, workers, command });
        keepTuningRun(runDir, results, name);
      }
      const readme = await writeTuningReport(results, `${machineLine()}, tfjs ${backend.tfBackend}, ${workers} thread(s)`);
      console.log(`wrote ${readme}`);
    }
  },
});
