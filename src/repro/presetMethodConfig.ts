import { resolve } from 'node:path';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { UsageError } from '../util/args.js';
import { reproPreset, type PresetBase, type ReproPreset } from './reproPresets.js';
import { unitConfig } from './reproUnit.js';

/** A method's setting in a reproduction preset: the config its unit trains with, and where it sits. */
export interface PresetMethodConfig {
  preset: ReproPreset;
  base: PresetBase;
  config: PostTrainConfig;
}

/** Which of the preset's bases, and from which folder (a notebook runs in notebooks/, so its folders differ from the preset's). */
export interface PresetBaseChoice {
  /** The base by name (`base-S`, `base-L`). */
  base?: string;
  /** The base's folder; without `base`, the base is the preset's whose folder this is. Default: the preset's. */
  baseDir?: string;
  /** Default: the preset's first training seed. */
  seed?: number;
}

/**
 * The config a preset's unit of `method` trains with (its base's budget, the lr and beta tuned for
 * it there, the preset's Emoji-Pick build), so that one unit can be rerun, or varied, outside the
 * reproduction: `post-train --preset paper --method self-dpo-blur --base data/base-l --seed 4`, or
 * `presetMethodConfig('paper', 'self-dpo-blur', { base: 'base-L', baseDir: '../data/base-l' })`.
 * The base is the preset's first unless named or found by its folder; a base the preset does not
 * have, or a method it does not train on that base, is a usage error naming what the preset has.
 */
export function presetMethodConfig(presetName: string, method: string, choice: PresetBaseChoice = {}): PresetMethodConfig {
  const preset = reproPreset(presetName);
  const has = preset.bases.map((b) => `${b.name}: ${b.dir}`).join(', ');
  const base =
    choice.base !== undefined
      ? preset.bases.find((b) => b.name === choice.base)
      : choice.baseDir !== undefined
        ? preset.bases.find((b) => resolve(b.dir) === resolve(choice.baseDir as string))
        : preset.bases[0];
  if (!base) throw new UsageError(`${choice.base !== undefined ? `base ${choice.base}` : `--base ${choice.baseDir}`} is none of the ${preset.name} preset's bases (${has})`);
  if (!base.methods.includes(method)) throw new UsageError(`--method ${method}: the ${preset.name} preset does not train it on ${base.name} (its methods there: ${base.methods.join(', ')})`);
  const config = unitConfig(preset, base, method, choice.seed ?? (preset.seeds[0] as number), choice.baseDir ?? base.dir);
  return { preset, base, config: { ...config, description: `${config.description} (the ${preset.name} preset's setting on ${base.name})` } };
}
