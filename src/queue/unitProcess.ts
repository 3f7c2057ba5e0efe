/**
 * One queued job in a process of its own, forked by the queue worker (queueWorker.ts): the
 * worker's event loop stays free to renew the job's lock and report progress while this
 * process computes, and a worker that dies takes this process down with it (disconnect).
 */
import { initBackend, type BackendName } from '../backend.js';
import { ensureEmojiT2I, defaultDataRoot } from '../data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../data/emojiConfig.js';
import { EmojiT2I } from '../data/emojiDataset.js';
import { readModelFile } from '../model/modelFile.js';
import { defaultWorkerCount } from '../parallel/modelPool.js';
import { runReproUnit, unitContext, type UnitProgress } from '../repro/reproUnit.js';
import type { ReproPreset } from '../repro/reproPresets.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { postTrain } from '../train/postTrain.js';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { readJsonFile } from '../util/jsonFile.js';

/** Where the worker's checkout keeps Emoji-T2I (its --data-root and --data-config). */
export interface DataPlace {
  dataRoot?: string;
  dataConfig?: string;
}

/** What the worker asks of this process. */
export type UnitTask = DataPlace & { backend?: BackendName; workers?: number; command: string } & (
    | { kind: 'repro-unit'; preset: ReproPreset; unit: string; bases: Record<string, string>; judges: string; out: string; work: string }
    | { kind: 'tune-run'; name: string; config: PostTrainConfig; runDir: string }
  );

/** What this process tells the worker. */
export type UnitMessage = { type: 'progress'; progress: UnitProgress } | { type: 'log'; line: string } | { type: 'done' } | { type: 'error'; message: string };

/** Emoji-T2I at `resolution` where the worker's flags say, built first when missing. */
export async function openData(place: DataPlace, resolution: number, log: (line: string) => void): Promise<EmojiT2I> {
  const override = { ...((place.dataConfig !== undefined ? readJsonFile(place.dataConfig, 'data config') : {}) as Record<string, unknown>), resolution };
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig(override, place.dataConfig ?? 'config'), { dataRoot: place.dataRoot ?? defaultDataRoot(), log });
  return EmojiT2I.open(dir);
}

function send(message: UnitMessage): void {
  process.send?.(message);
}

async function run(task: UnitTask): Promise<void> {
  const log = (line: string): void => send({ type: 'log', line });
  const backend = await initBackend({ ...(task.backend ? { backend: task.backend } : {}), quiet: true });
  const workers = task.workers ?? defaultWorkerCount(backend.tfBackend);
  if (task.kind === 'repro-unit') {
    const data = await openData(task, readModelFile(Object.values(task.bases)[0] as string).file.model.resolution, log);
    const opts = { out: task.out, work: task.work, bases: task.bases, judges: task.judges, workers, command: task.command };
    const ctx = unitContext(task.preset, data, opts, log, (progress) => send({ type: 'progress', progress }));
    await runReproUnit(ctx, task.unit);
  } else {
    const resolution = readModelFile(task.config.base).file.model.resolution;
    const data = await openData(task, resolution, log);
    const steps = task.config.train.steps;
    await postTrain(task.config, await emojiTrainData(data, task.config, resolution), task.runDir, {
      workers,
      command: task.command,
      onStep: (r) => send({ type: 'progress', progress: { unit: task.name, phase: 'train', done: r.step, of: steps } }),
    });
  }
}

// The worker gone (killed, or stopped): stop too, rather than compute for nobody.
process.on('disconnect', () => process.exit(1));
process.once('message', (task: UnitTask) => {
  const end = (message: UnitMessage, code: number): void => {
    // Exit once the message is out: nothing more to do, and the pool's threads are stopped.
    if (process.send) process.send(message, () => process.exit(code));
    else process.exit(code);
  };
  run(task).then(
    () => end({ type: 'done' }, 0),
    (err: unknown) => end({ type: 'error', message: err instanceof Error ? err.message : String(err) }, 1),
  );
});
