import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { readJsonFile } from '../util/jsonFile.js';
import { readJudgeFile } from '../eval/judgeFile.js';
import { readModelFile } from '../model/modelFile.js';
import { sha256 } from '../util/sha256.js';
import type { ReproPreset } from './reproPresets.js';
import type { ReproIdentity } from './reproUnits.js';
import { unitConfig } from './reproUnit.js';

/** What must match for a reproduction to resume, or for a worker to take its units (the preset's prose may change). */
const IDENTITY_KEYS = ['preset', 'baseSha256', 'judges', 'configsSha256', 'dataSha256'] as const;

/** What each identity key is called in a message. */
const IDENTITY_WORDS: Record<(typeof IDENTITY_KEYS)[number], string> = {
  preset: 'preset',
  baseSha256: 'base weights',
  judges: 'judges',
  configsSha256: 'method configs (configs/)',
  dataSha256: 'data build',
};

/** A reproduction's identity from the checkout it runs in: the preset, the base's and judges' weights, the resolved configs, the data's manifest. */
export function reproIdentity(preset: ReproPreset, data: EmojiT2I, opts: { base: string; judges: string }): ReproIdentity {
  const judges = Object.fromEntries(['eval', 'annotator', 'realism'].map((name) => [name, readJudgeFile(join(opts.judges, name)).file.weightsManifest.sha256]));
  // Paths left out: the same reproduction may resume from another checkout.
  const configs = preset.methods.map((m) => unitConfig(preset, m, 0, { base: 'BASE', work: 'WORK' }));
  return {
    preset,
    base: opts.base,
    baseSha256: readModelFile(opts.base).file.weightsManifest.sha256,
    judges,
    configsSha256: sha256(JSON.stringify(configs)),
    dataSha256: sha256(JSON.stringify(data.manifest)),
  };
}

/** The parts of two identities that differ, in words ('base weights', 'judges'); the preset's purpose and the base's path do not count. */
export function identityDifferences(saved: ReproIdentity, identity: ReproIdentity): string[] {
  const { purpose: _a, ...savedPreset } = saved.preset;
  const { purpose: _b, ...preset } = identity.preset;
  const same = (k: (typeof IDENTITY_KEYS)[number]): boolean => (k === 'preset' ? JSON.stringify(savedPreset) === JSON.stringify(preset) : JSON.stringify(saved[k]) === JSON.stringify(identity[k]));
  return IDENTITY_KEYS.filter((k) => !same(k)).map((k) => IDENTITY_WORDS[k]);
}

/** Refuse to resume a reproduction (its preset.json `file`) started with another identity. */
export function checkIdentity(file: string, identity: ReproIdentity): void {
  if (!existsSync(file)) return;
  const differs = identityDifferences(readJsonFile(file, 'preset.json') as ReproIdentity, identity);
  if (differs.length > 0) throw new Error(`${file}: this reproduction was started with a different ${differs.join(', ')}; pass --force to start it over`);
}
