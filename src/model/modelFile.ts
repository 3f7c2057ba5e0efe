import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NoiseSchedule, ScheduleKind } from '../diffusion/schedule.js';
import { makeSchedule } from '../diffusion/schedule.js';
import { Tokenizer, type TokenizerSpec } from '../text/tokenizer.js';
import { resolveAtomicDir, writeDirAtomic } from '../util/atomicDir.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { Params } from './params.js';
import { TextToImageModel, type ModelConfig } from './textToImage.js';
import { readWeights, writeWeights, type NamedWeights, type WeightDtype, type WeightsManifest } from './weightsFile.js';
import { readJsonFile } from '../util/jsonFile.js';

export const MODEL_FORMAT = 'selfdpo-model/1';

/** `model.json`: everything needed to rebuild and run a model, weights aside. */
export interface ModelFile {
  format: typeof MODEL_FORMAT;
  model: ModelConfig;
  schedule: { kind: ScheduleKind; steps: number };
  tokenizer: TokenizerSpec;
  weightsManifest: WeightsManifest;
  /** Free-form provenance: the run, its step, the command. */
  about: Record<string, unknown>;
}

export interface LoadedModel {
  model: TextToImageModel;
  schedule: NoiseSchedule;
  file: ModelFile;
  dir: string;
}

/** Write a model directory (model.json + weights.bin) atomically; shipped models store float16. */
export async function saveModel(
  dir: string,
  model: TextToImageModel,
  schedule: { kind: ScheduleKind; steps: number },
  about: Record<string, unknown>,
  params: Params = model.params,
  dtype: WeightDtype = 'float32',
): Promise<ModelFile> {
  const values = await params.values();
  const weights: NamedWeights = new Map([...values].map(([n, data]) => [n, { shape: params.variable(n).shape, data }]));
  let file: ModelFile | undefined;
  await writeDirAtomic(dir, (tmp) => {
    const manifest = writeWeights(tmp, 'weights.bin', weights, dtype);
    file = { format: MODEL_FORMAT, model: model.config, schedule: { kind: schedule.kind, steps: schedule.steps }, tokenizer: model.tokenizer.toJSON(), weightsManifest: manifest, about };
    writeFileAtomic(join(tmp, 'model.json'), `${JSON.stringify(file, null, 1)}\n`);
  });
  return file as ModelFile;
}

/**
 * A model directory's model.json alone, checked (no weights read): for callers that need
 * only the config, such as the resolution of the data to load.
 */
export function readModelFile(dir: string): { file: ModelFile; found: string } {
  const found = resolveAtomicDir(dir);
  const path = join(found ?? dir, 'model.json');
  if (!found || !existsSync(path)) throw new Error(`${path} not found (a model directory holds model.json and weights.bin)`);
  const file = readJsonFile(path, 'model file') as ModelFile;
  if (file.format !== MODEL_FORMAT) throw new Error(`${path}: format "${String(file.format)}", expected "${MODEL_FORMAT}"`);
  for (const key of ['model', 'schedule', 'tokenizer', 'weightsManifest'] as const) {
    if (typeof file[key] !== 'object' || file[key] === null) throw new Error(`${path}: missing key "${key}"`);
  }
  // Files from before the `prediction` key predicted eps.
  file.model = { ...file.model, prediction: file.model.prediction ?? 'eps' };
  return { file, found };
}

/** Read a model directory written by `saveModel`; errors name the file and what is wrong. */
export function loadModel(dir: string): LoadedModel {
  const { file, found } = readModelFile(dir);
  const weights = readWeights(found, file.weightsManifest);
  // Build the architecture from the config, then fill it: a name or shape that differs
  // between the file and the code is an error here rather than a silent mismatch later.
  const model = TextToImageModel.create(file.model, new Tokenizer(file.tokenizer), 0);
  try {
    model.params.assign(weights);
  } catch (err) {
    model.params.dispose();
    throw new Error(`${join(found, file.weightsManifest.file)}: ${(err as Error).message}`);
  }
  return { model, schedule: makeSchedule(file.schedule.kind, file.schedule.steps), file, dir: found };
}
