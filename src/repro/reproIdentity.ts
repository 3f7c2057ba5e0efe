import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { readJsonFile } from '../util/jsonFile.js';
import { readJudgeFile } from '../eval/judgeFile.js';
import { readModelFile } from '../model/modelFile.js';
import { openPickBuild, pickBuildSha256, type PickBuild } from '../data/pickBuild.js';
import { sha256 } from '../util/sha256.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { baseDirs, type ReproPreset } from './reproPresets.js';
import { asCurrentRecord } from './reproRecord.js';
import type { ReproIdentity, ReproRecord } from './reproUnits.js';
import { unitConfig } from './reproUnit.js';

/** What must match for a reproduction to resume, or for a worker to take its units (the preset's prose and the bases' folders may change). */
const IDENTITY_KEYS = ['preset', 'bases', 'judges', 'configsSha256', 'dataSha256', 'pickSha256'] as const;

/** What each identity key is called in a message. */
const IDENTITY_WORDS: Record<(typeof IDENTITY_KEYS)[number], string> = {
  preset: 'preset',
  bases: 'base weights',
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
 * A reproduction's identity from the checkout it runs in: the preset, each base's and the judges'
 * weights, the resolved configs, the data's manifest and the Emoji-Pick build's bytes.
 */
export function reproIdentity(preset: ReproPreset, data: EmojiT2I, opts: { bases?: Record<string, string>; judges: string }): ReproIdentity {
  const judges = Object.fromEntries(['eval', 'annotator', 'realism'].map((name) => [name, readJudgeFile(join(opts.judges, name)).file.weightsManifest.sha256]));
  const dirs = baseDirs(preset, opts.bases);
  const bases = Object.fromEntries(Object.entries(dirs).map(([name, dir]) => [name, { dir, sha256: readModelFile(dir).file.weightsManifest.sha256 }]));
  const pick = openPresetPick(preset);
  // Paths left out: the same reproduction may resume from another checkout. For a preset of base-S
  // alone this is the list every single-base reproduction hashed, so theirs still compare.
  const placeholder = { ...preset, pick: 'PICK' };
  const configs = preset.bases.flatMap((b) => b.methods.map((m) => unitConfig(placeholder, b, m, 0, 'BASE')));
  return {
    preset,
    bases,
    judges,
    configsSha256: sha256(JSON.stringify(configs)),
    dataSha256: sha256(JSON.stringify(data.manifest)),
    pick: preset.pick,
    pickSha256: pickBuildSha256(pick),
  };
}

/** The preset as far as it decides results: without its prose and its bases' folders. */
function presetSubstance(preset: ReproPreset): unknown {
  const { purpose: _purpose, bases, ...rest } = preset;
  return { ...rest, bases: bases.map(({ dir: _dir, ...b }) => b) };
}

/** The parts of two identities that differ, in words ('base weights', 'judges'); the preset's purpose and the bases' folders do not count. */
export function identityDifferences(saved: ReproIdentity, identity: ReproIdentity): string[] {
  const shas = (i: ReproIdentity): Record<string, string> => Object.fromEntries(Object.entries(i.bases).map(([n, b]) => [n, b.sha256]));
  const same = (k: (typeof IDENTITY_KEYS)[number]): boolean =>
    k === 'preset'
      ? canonicalJson(presetSubstance(saved.preset)) === canonicalJson(presetSubstance(identity.preset))
      : k === 'bases'
        ? JSON.stringify(shas(saved)) === JSON.stringify(shas(identity))
        : JSON.stringify(saved[k]) === JSON.stringify(identity[k]);
  return IDENTITY_KEYS.filter((k) => !same(k)).map((k) => IDENTITY_WORDS[k]);
}

/**
 * Refuse to resume a reproduction (its preset.json `file`) started with another identity. A
 * record written before base-L joined is read in today's shape first, so that a change of the
 * record's format alone never stops a run (only a change of what decides its results does).
 */
export function checkIdentity(file: string, identity: ReproIdentity): void {
  if (!existsSync(file)) return;
  const saved = asCurrentRecord(readJsonFile(file, 'preset.json') as ReproRecord, file);
  const differs = identityDifferences(saved, identity);
  if (differs.length === 0) return;
  // The build is named by its hash: the folder may hold another build now.
  const build = differs.includes(IDENTITY_WORDS.pickSha256) ? ` (${identity.pick} holds ${identity.pickSha256.slice(0, 12)} now, ${String(saved.pickSha256).slice(0, 12)} then)` : '';
  throw new Error(`${file}: this reproduction was started with a different ${differs.join(', ')}${build}; pass --force to start it over`);
}
