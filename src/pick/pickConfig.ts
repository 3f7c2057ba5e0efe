import { checkIntegerRange, checkRange, ConfigError, resolveConfig } from '../config.js';
import { isSamplerName, SAMPLERS, type SamplerName } from '../model/generate.js';

/** One generator of the pool: a name written in the model_0/model_1 columns and a model folder. */
export interface PickGenerator {
  name: string;
  model: string;
}

/**
 * Emoji-Pick, the Pick-a-Pic v2 analog (docs/PROTOCOL.md "Emoji-Pick"): what decides its bytes.
 * Each pair is one training-style caption of a seen concept and two images, each drawn by a
 * generator of the pool with its own seed and sampling setting, ranked by the annotator judge.
 */
export interface EmojiPickConfig {
  seed: number;
  /** Pairs per split; every pair has its own prompt string (Pick-a-Pic's validation_unique style). */
  pairs: { train: number; validation: number };
  /** At least three, of clearly different strength; each image's generator is drawn uniformly. */
  generators: PickGenerator[];
  /** Sampling settings drawn per image, as Pick-a-Pic's users varied theirs: steps and guidance per image, one sampler. */
  settings: { sampler: SamplerName; steps: number[]; guidance: number[] };
  /** The annotator judge (a contrastive judge folder): its Align ranks the two images. */
  annotator: string;
  /**
   * Align points (100·cosine) within which two images tie: label 0.5/0.5. The default is the
   * annotator's median |change| when a held-out real image moves by one pixel (1.23 over the 500
   * validation images; 95th percentile 4.19; a JPEG round trip at quality 95: 0.21), measured by
   * `annotatorNoise` and repeated in the card: a smaller difference is one the annotator also
   * makes between two copies of one picture.
   */
  tieMargin: number;
  /** Pairs per Parquet shard. */
  shardPairs: number;
  /** JPEG quality of jpg_0/jpg_1 (4:4:4 chroma: at 32x32 subsampling smears whole features). */
  jpegQuality: number;
}

const EMOJI_PICK_DEFAULTS: EmojiPickConfig = {
  seed: 0,
  pairs: { train: 12000, validation: 500 },
  generators: [
    { name: 'weak', model: 'data/weak' },
    { name: 'base-S', model: 'data/base-s' },
    { name: 'base-L', model: 'data/base-l' },
  ],
  // DPM-Solver++(2M) at 5, 10 and 15 steps: images from 6.9 byte levels off DDIM-25's (Real 4.7
  // points lower) to 2.2, where DDIM at 10 and 25 steps gave 3.7 and 0 (results/bench/
  // sampler-steps-base-s.md); 10 network evaluations per image on average, against the earlier
  // DDIM 10/15/25's 16.7.
  settings: { sampler: 'dpm++2m', steps: [5, 10, 15], guidance: [1.5, 3, 5] },
  annotator: 'data/judges/annotator',
  tieMargin: 1.2,
  shardPairs: 1000,
  jpegQuality: 95,
};

/** Defaults + override, checked (errors name the key and `source`). */
export function resolveEmojiPickConfig(override: unknown = {}, source = 'config'): EmojiPickConfig {
  const c = resolveConfig(EMOJI_PICK_DEFAULTS, override, source);
  checkIntegerRange('seed', c.seed, 0, 2 ** 31, source);
  checkIntegerRange('pairs.train', c.pairs.train, 1, 10_000_000, source);
  checkIntegerRange('pairs.validation', c.pairs.validation, 1, 10_000_000, source);
  if (!Array.isArray(c.generators) || c.generators.length < 2) throw new ConfigError('generators', 'needs at least two generators (the protocol asks for three of clearly different strength)', source);
  const names = new Set<string>();
  c.generators.forEach((g, i) => {
    if (typeof g?.name !== 'string' || g.name === '' || typeof g.model !== 'string' || g.model === '') throw new ConfigError(`generators[${i}]`, 'needs a non-empty name and model folder', source);
    if (names.has(g.name)) throw new ConfigError(`generators[${i}].name`, `"${g.name}" appears twice`, source);
    names.add(g.name);
  });
  if (!isSamplerName(c.settings.sampler)) throw new ConfigError('settings.sampler', `must be one of ${SAMPLERS.join(', ')}, not ${JSON.stringify(c.settings.sampler)}`, source);
  for (const key of ['steps', 'guidance'] as const) {
    const values = c.settings[key];
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => !(typeof v === 'number' && v > 0)))
      throw new ConfigError(`settings.${key}`, 'must be a non-empty list of positive numbers', source);
  }
  checkRange('tieMargin', c.tieMargin, 0, 200, source);
  checkIntegerRange('shardPairs', c.shardPairs, 1, 1_000_000, source);
  checkIntegerRange('jpegQuality', c.jpegQuality, 1, 100, source);
  return c;
}
