import type { GenerateOptions } from '../model/generate.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';

/**
 * Every method of docs/PROTOCOL.md's tables, as named in configs/: the paper's on Emoji-Pick,
 * Table 5's on the web set, and the extra curated-set regime.
 */
export const REPRO_METHODS = ['sft', 'dpo', 'self-dpo', 'self-dpo-blur', 'self-dpo-grid', 'self-dpo-no-mse', 'self-dpo-nearest', 'sft-web', 'self-dpo-web', 'sft-curated', 'self-dpo-curated'] as const;

/** The Emoji-Pick build the quick and paper presets train on (`npm run pick` writes it there). */
export const EMOJI_PICK_DIR = 'data/emoji-pick';

/** One reproduction of the protocol: which runs, on what budget, evaluated how. */
export interface ReproPreset {
  name: string;
  /** What the preset is for, written at the top of its README. */
  purpose: string;
  /** configs/ names; each trains once per seed. */
  methods: string[];
  /** Training seeds; every method runs on each. */
  seeds: number[];
  /** Overrides of every method's train and log keys (one budget for all, docs/PROTOCOL.md). */
  train: { steps: number; batchSize: number; microBatch: number };
  log: { every: number; checkpointEvery: number; evalEvery: number; evalPairs: number };
  /**
   * The Emoji-Pick build (the folder `npm run pick` writes): every method whose config reads
   * preference pairs trains on its train split, Diffusion-DPO on the untied pairs and the others
   * on their winners, and is probed on its validation split (docs/PROTOCOL.md, "Emoji-Pick").
   */
  pick: string;
  /** The first N prompts of each prompt set, and how every model draws them. */
  eval: { prompts: Record<PromptSetName, number>; sampling: Omit<GenerateOptions, 'onStep'> };
  /** Figures 3/4: the first N curated-val prompts (rows) x these seeds, for each method's first training seed. */
  grid: { prompts: number; seeds: number[] };
}

const ALL_SETS = (n: number): Record<PromptSetName, number> => Object.fromEntries(PROMPT_SETS.map((s) => [s, n])) as Record<PromptSetName, number>;

/**
 * quick: the whole pipeline on a small budget (about 10 minutes here before the two
 * curated-set methods joined it): every method once, 24 steps of 8 pairs, 24 prompts per set at
 * 10 DDIM steps. Its numbers show that everything runs end to end, not what the methods do; the
 * paper preset is the measurement.
 */
export const QUICK: ReproPreset = {
  name: 'quick',
  purpose:
    'the whole pipeline on a small budget: every method once, 24 steps of 8 pairs, 24 prompts per prompt set. Its numbers show that every part runs end to end; they are too small to say what the methods do (the paper preset is the measurement).',
  methods: [...REPRO_METHODS],
  seeds: [1],
  train: { steps: 24, batchSize: 8, microBatch: 8 },
  log: { every: 4, checkpointEvery: 8, evalEvery: 8, evalPairs: 32 },
  pick: EMOJI_PICK_DIR,
  eval: { prompts: ALL_SETS(24), sampling: { steps: 10, guidance: 3 } },
  grid: { prompts: 6, seeds: [0, 1] },
};

/**
 * paper: the protocol at the post-training budget of results/post-training (400 steps of 16
 * pairs, with the lr and beta chosen in results/tuning), 3 training seeds per method, 160
 * prompts of each set at 25 DDIM steps; sized to finish in about 5 hours on this 2-core
 * machine (resumable) before the two curated-set methods joined it (6 more of its 34 units).
 */
export const PAPER: ReproPreset = {
  name: 'paper',
  purpose:
    "the paper's protocol: every method on 3 training seeds, 400 steps of 16 pairs at the lr and beta chosen in results/tuning, evaluated on 160 prompts of each prompt set with per-prompt seeds shared by every model.",
  methods: [...REPRO_METHODS],
  seeds: [1, 2, 3],
  train: { steps: 400, batchSize: 16, microBatch: 16 },
  log: { every: 10, checkpointEvery: 50, evalEvery: 50, evalPairs: 128 },
  pick: EMOJI_PICK_DIR,
  eval: { prompts: ALL_SETS(160), sampling: { steps: 25, guidance: 3 } },
  grid: { prompts: 8, seeds: [0, 1, 2] },
};

export const REPRO_PRESETS: Record<string, ReproPreset> = { quick: QUICK, paper: PAPER };

export function reproPreset(name: string): ReproPreset {
  const preset = REPRO_PRESETS[name];
  if (!preset) throw new Error(`--preset: unknown preset "${name}" (known: ${Object.keys(REPRO_PRESETS).join(', ')})`);
  return preset;
}
