import type { ContrastiveJudgeConfig } from './contrastiveJudge.js';
import type { JudgeTrainConfig } from './judgeTraining.js';
import type { RealismJudgeConfig } from './realismJudge.js';

/** The three judges of docs/PROTOCOL.md, by name (their directories under data/judges/). */
export const JUDGE_NAMES = ['eval', 'annotator', 'realism'] as const;
export type JudgeName = (typeof JUDGE_NAMES)[number];

const TOWER = { channels: [24, 48, 96], groups: 8, width: 256 };

export const CONTRASTIVE_JUDGE: ContrastiveJudgeConfig = {
  resolution: 32,
  maxWords: 16,
  image: TOWER,
  text: { width: 128, layers: 2, heads: 4 },
  embed: 128,
};

export const REALISM_JUDGE: RealismJudgeConfig = { resolution: 32, image: { ...TOWER, width: 64 } };

/**
 * What each judge trains on and how. The evaluation judge sees every judge style; the
 * annotator judge a different subset and seed (docs/PROTOCOL.md), so DPO's pairs are not ranked by
 * the judge that later scores the methods. The realism judge: judge-style images against
 * base-model samples drawn from training captions (never a test prompt set), or against the
 * images of an Emoji-Pick pool (`REALISM_POOL`).
 */
export const JUDGE_RECIPES: Record<JudgeName, { styles: string[] | 'all'; train: JudgeTrainConfig }> = {
  eval: { styles: 'all', train: { seed: 11, steps: 1500, batchSize: 128, lr: 1e-3, warmupSteps: 100, weightDecay: 0.05, log: { every: 25, checkpointEvery: 100 } } },
  annotator: {
    styles: ['openmoji', 'emojione', 'noto-v1', 'fxemoji'],
    train: { seed: 22, steps: 1500, batchSize: 128, lr: 1e-3, warmupSteps: 100, weightDecay: 0.05, log: { every: 25, checkpointEvery: 100 } },
  },
  realism: { styles: 'all', train: { seed: 33, steps: 600, batchSize: 64, lr: 1e-3, warmupSteps: 50, weightDecay: 0.05, log: { every: 25, checkpointEvery: 100 } } },
};

/** Base-model samples the realism judge trains on, and held out for its report. */
export const REALISM_SAMPLES = { train: 1024, heldout: 256 };

/**
 * A realism judge trained against an Emoji-Pick pool (`judges --pool`) takes the same number of
 * training-split images from every generator, at most this many each: about the size of the real
 * class, and a bound on memory for a large build.
 */
export const REALISM_POOL = { perGenerator: 4096 };
