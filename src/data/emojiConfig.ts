import { checkIntegerRange, checkRange, ConfigError, resolveConfig } from '../config.js';

/** The web set's noise (docs/PROTOCOL.md: base-S is pretrained on web-like data). */
export interface WebNoiseConfig {
  /** Share of captions reduced to keywords only (no name, subgroup or group). */
  looseCaption: number;
  /** Share of captions taken from another, random concept. */
  wrongCaption: number;
  /** Share of images re-encoded as JPEG at a quality in [jpegQualityMin, jpegQualityMax]. */
  jpeg: number;
  jpegQualityMin: number;
  jpegQualityMax: number;
  /** Share of images blurred with a Gaussian of `blurSigma` pixels. */
  blur: number;
  blurSigma: number;
}

/** Everything that decides the bytes of an Emoji-T2I build. */
export interface EmojiDataConfig {
  /** Image side in pixels: 32 by default, 64 on request. */
  resolution: number;
  /** Share of concepts held out from the generator (unseen concepts). */
  unseenFraction: number;
  /** Salt of the stable concept hash; change it to draw a different unseen split. */
  splitSalt: string;
  /** A concept is kept when at least this many generator styles and judge styles draw it. */
  minGeneratorStyles: number;
  minJudgeStyles: number;
  /**
   * Keep only this many concepts (0 = all), chosen by a stable hash: for smoke tests and
   * quick experiments that need the real pipeline on a small world.
   */
  maxConcepts: number;
  /** Seed of the web set's noise draws. */
  seed: number;
  /** Images per shard file. */
  shardSize: number;
  web: WebNoiseConfig;
}

export const DEFAULT_EMOJI_DATA: EmojiDataConfig = {
  resolution: 32,
  unseenFraction: 0.1,
  splitSalt: 'emoji-t2i-v1',
  minGeneratorStyles: 2,
  minJudgeStyles: 1,
  maxConcepts: 0,
  seed: 1234,
  shardSize: 4096,
  web: {
    looseCaption: 0.2,
    wrongCaption: 0.1,
    jpeg: 0.3,
    jpegQualityMin: 40,
    jpegQualityMax: 80,
    blur: 0.15,
    blurSigma: 0.7,
  },
};

/** Defaults plus overrides, validated; errors name the key. */
export function resolveEmojiDataConfig(override: unknown = {}, source = 'data config'): EmojiDataConfig {
  const c = resolveConfig(DEFAULT_EMOJI_DATA, override, source);
  if (c.resolution !== 32 && c.resolution !== 64) {
    throw new ConfigError('resolution', `must be 32 or 64, got ${c.resolution}`, source);
  }
  checkRange('unseenFraction', c.unseenFraction, 0, 0.9, source);
  checkIntegerRange('minGeneratorStyles', c.minGeneratorStyles, 1, 5, source);
  checkIntegerRange('minJudgeStyles', c.minJudgeStyles, 0, 6, source);
  checkIntegerRange('maxConcepts', c.maxConcepts, 0, 1e6, source);
  checkIntegerRange('seed', c.seed, 0, 2 ** 32 - 1, source);
  checkIntegerRange('shardSize', c.shardSize, 1, 1 << 20, source);
  checkRange('web.looseCaption', c.web.looseCaption, 0, 1, source);
  checkRange('web.wrongCaption', c.web.wrongCaption, 0, 1 - c.web.looseCaption, source);
  checkRange('web.jpeg', c.web.jpeg, 0, 1, source);
  checkIntegerRange('web.jpegQualityMin', c.web.jpegQualityMin, 1, 100, source);
  checkIntegerRange('web.jpegQualityMax', c.web.jpegQualityMax, c.web.jpegQualityMin, 100, source);
  checkRange('web.blur', c.web.blur, 0, 1, source);
  checkRange('web.blurSigma', c.web.blurSigma, 0.3, 10, source);
  return c;
}
