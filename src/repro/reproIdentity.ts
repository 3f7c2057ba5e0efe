import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { readJsonFile } from '../util/jsonFile.js';
import { readJudgeFile } from '../eval/judgeFile.js';
import { readModelFile } from '../model/modelFile.js';
import { openPickBuild, pickBuildSha256, type PickBuild } from '../data/pickBuild.js';
import { sha256 } from '../util/sha256.js';
import type { ReproPreset } from './reproPresets.js';
import type { ReproIdentity } from './reproUnits.js';
import { unitConfig } from './reproUnit.js';

/** What must match for a reproduction to resume, or for a worker to take its units (the preset's prose may change). */
const IDENTITY_KEYS = ['preset', 'baseSha256', 'judges', 'configsSha256', 'dataSha256', 'pickSha256'] as const;

/** What each identity key is called in a message. */
const IDENTITY_WORDS: Record<(typeof IDENTITY_KEYS)[number], string> = {
  preset: 'preset',
  baseSha256: 'base weights',
  judges: 'judges',
  configsSha256: 'method configs (configs/)',
  dataSha256: 'data build',
  pickSha256: 'Emoji-Pick build',
};

/**
 * The preset's Emoji-Pick build, opened and checked before anything trains: a missing or
 * unfinished one is an error naming the folder and the command that makes it.
 */
export function openPresetPick(preset: Pick<ReproPreset, 'name' | 'pick'>): PickBuild {
  try {
    return openPickBuild(preset.pick);
  } catch (err) {
    throw new Error(`the ${preset.name} preset trains on the Emoji-Pick build in ${preset.pick} (npm run pick makes it): ${(err as Error).message}`);
  }
}

/**
 * A reproduction's identity from the checkout it runs in: the preset, the base's and judges'
 * weights, the resolved configs, the data's manifest and the Emoji-Pick build's bytes.
 */
export function reproIdentity(preset: ReproPreset, data: EmojiT2I, opts: { base: string; judges: string }): ReproIdentity {
  const judges = Object.fromEntries(['eval', 'annotator', 'realism'].map((name) => [name, readJudgeFile(join(opts.judges, name)).file.weightsManifest.sha256]));
  const baseSha256 = readModelFile(opts.base).file.weightsManifest.sha256;
  const pick = openPresetPick(preset);
  // Paths left out: the same reproduction may resume from another checkout.
  const configs = preset.methods.map((m) => unitConfig({ ...preset, pick: 'PICK' }, m, 0, { base: 'BASE' }));
  return {
    preset,
    base: opts.base,
    baseSha256,
    judges,
    configsSha256: sha256(JSON.stringify(configs)),
    dataSha256: sha256(JSON.stringify(data.manifest)),
    pick: preset.pick,
    pickSha256: pickBuildSha256(pick),
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
  const saved = readJsonFile(file, 'preset.json') as ReproIdentity;
  const differs = identityDifferences(saved, identity);
  if (differs.length === 0) return;
  // The build is named by its hash: the folder may hold another build now.
  const build = differs.includes(IDENTITY_WORDS.pickSha256) ? ` (${identity.pick} holds ${identity.pickSha256.slice(0, 12)} now, ${String(saved.pickSha256).slice(0, 12)} then)` : '';
  throw new Error(`${file}: this reproduction was started with a different ${differs.join(', ')}${build}; pass --force to start it over`);
}
