import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';
import { makeSchedule } from '../../src/diffusion/schedule.js';
import { saveModel } from '../../src/model/modelFile.js';
import { TextToImageModel } from '../../src/model/textToImage.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import type { PostTrainData } from '../../src/train/postTrain.js';
import { resolvePostTrainConfig, type PostTrainConfig } from '../../src/train/postTrainConfig.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { fakeImageTextSet } from './fakeImageTextSet.js';

/** The fake set's concept: its colour (ids are fake/<i>, colours cycle every 4 images). */
export const colourOfId = (id: string): string => String(Number(id.split('/')[1]) % 4);

/** A smoke-sized v-predicting base model saved in a temp directory (random weights from `seed`). */
export async function smokeBase(seed = 7): Promise<string> {
  const config = resolvePretrainConfig(SMOKE_OVERRIDE);
  const tokenizer = Tokenizer.fromCaptions(['red green blue yellow square, shape, colour'], { maxLength: config.model.maxWords });
  const model = TextToImageModel.create(config.model, tokenizer, seed);
  const dir = join(mkdtempSync(join(tmpdir(), 'base-')), 'base');
  await saveModel(dir, model, makeSchedule(config.schedule.kind, config.schedule.steps), { test: true });
  model.params.dispose();
  return dir;
}

export function smokeTrainData(winners: ImageTextSet = fakeImageTextSet(32)): PostTrainData {
  return { winners, conceptOfId: colourOfId, heldout: { name: 'probe', set: fakeImageTextSet(8, 32, 9), conceptOfId: colourOfId }, source: { test: true } };
}

/** A tiny run config on `base`: big LR so that a few steps move the weights measurably. */
export function smokeTrainConfig(base: string, override: Record<string, unknown> = {}, train: Record<string, unknown> = {}): PostTrainConfig {
  return resolvePostTrainConfig({
    base,
    ...override,
    train: { steps: 4, batchSize: 8, microBatch: 8, lr: 1e-3, ...train },
    log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalPairs: 4 },
  });
}
