import { DEFAULT_SAMPLING, type GenerateOptions } from '../model/generate.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { BASE_L_NAME, BASE_S_NAME } from './reproUnits.js';

/**
 * The paper's methods on Emoji-Pick (Tables 2-4, Figure 5): SFT, Diffusion-DPO, Self-DPO and its
 * downgrades and ablations, as named in configs/. `self-dpo-beta50` and `self-dpo-no-mse-beta50`
 * are Table 4 at a beta where the MSE and preference terms' gradients are within 10x of each
 * other (results/tuning/loss-terms-*.md), beside the paper's beta, where the preference term's is
 * 400x the MSE term's and the ablation cannot change much.
 */
export const PICK_METHODS = ['sft', 'dpo', 'self-dpo', 'self-dpo-blur', 'self-dpo-grid', 'self-dpo-no-mse', 'self-dpo-nearest', 'self-dpo-beta50', 'self-dpo-no-mse-beta50'] as const;

/** Table 5's methods on the web set, and the extra regime on the curated set. */
const WEB_METHODS = ['sft-web', 'self-dpo-web'] as const;
const CURATED_METHODS = ['sft-curated', 'self-dpo-curated'] as const;

/** Every method of docs/PROTOCOL.md's tables on base-S. */
export const REPRO_METHODS = [...PICK_METHODS, ...WEB_METHODS, ...CURATED_METHODS] as const;

/** The Emoji-Pick build the quick and paper presets train on (`npm run pick` writes it there). */
export const EMOJI_PICK_DIR = 'data/emoji-pick';

/** A preset's budget: overrides of every method's train and log keys (one budget for all methods on a base, docs/PROTOCOL.md). */
export interface ReproBudget {
  train: { steps: number; batchSize: number; microBatch: number };
  log: { every: number; checkpointEvery: number; evalEvery: number; evalPairs: number };
}

/** One base model of a preset and what is post-trained from it. */
export interface PresetBase extends ReproBudget {
  /** `BASE_S_NAME` or `BASE_L_NAME`: how units, tables and claims name it. */
  name: string;
  /** Its folder in the checkout (`--base`/`--base-l` override it; not part of a reproduction's identity). */
  dir: string;
  /** configs/ names post-trained from it; each trains once per training seed. */
  methods: string[];
  /**
   * The lr and beta `npm run tune` chose for a method on this base (results/tuning), over its
   * config's; an ablation not named takes its Self-DPO's (`tunedFor`), any other method not
   * named keeps configs/'s (docs/PROTOCOL.md, "Tuning").
   */
  tuned?: Record<string, { lr?: number; beta?: number }>;
}

/** One reproduction of the protocol: which runs, on what budget, evaluated how. */
export interface ReproPreset {
  name: string;
  /** What the preset is for, written at the top of its README. */
  purpose: string;
  /** The bases, each with its methods and budget; the first is the one every older, single-base reproduction ran on (base-S). */
  bases: PresetBase[];
  /** Training seeds; every method of every base runs on each. */
  seeds: number[];
  /**
   * The Emoji-Pick build (the folder `npm run pick` writes): every method whose config reads
   * preference pairs trains on its train split, Diffusion-DPO on the untied pairs and the others
   * on their winners, and is probed on its validation split (docs/PROTOCOL.md, "Emoji-Pick").
   */
  pick: string;
  /**
   * The first N prompts of each prompt set, how every model draws them, and how many sample
   * seeds per prompt (`draws`, absent: 1): every model draws the same (prompt, seed) images.
   */
  eval: { prompts: Record<PromptSetName, number>; sampling: Omit<GenerateOptions, 'onStep'>; draws?: number };
  /** Figures 3/4: the first N curated-val prompts (rows) x these seeds, for each method's first training seed. */
  grid: { prompts: number; seeds: number[] };
}

const ALL_SETS = (n: number): Record<PromptSetName, number> => Object.fromEntries(PROMPT_SETS.map((s) => [s, n])) as Record<PromptSetName, number>;

/**
 * What base-L post-trains: the paper's methods on Emoji-Pick. Not Table 5's web rows nor the
 * curated regime: the paper runs Table 5 on SD 1.5 alone (its base row is SD 1.5's Table 2 row),
 * and claim (g) is about base-S; on base-L they would cost 12 units that no claim reads.
 */
const BASE_L_METHODS = [...PICK_METHODS];

/**
 * quick: the whole pipeline on a small budget: every method once on base-S, and on base-L the
 * three methods claim (f) and Table 2 read (the other base-L units run the same code), a few
 * steps of 8 pairs, 8 prompts per set at 2 draws each (evaluation was half of a unit's time at 16).
 * Its numbers show that everything runs end to end, not what the methods do; the paper preset
 * is the measurement.
 */
export const QUICK: ReproPreset = {
  name: 'quick',
  purpose:
    'the whole pipeline on a small budget: every method once on base-S (24 steps of 8 pairs) and SFT, Diffusion-DPO and Self-DPO once on base-L (8 steps of 8 pairs), 8 prompts per prompt set at 2 sample seeds each. Its numbers show that every part runs end to end; they are too small to say what the methods do (the paper preset is the measurement).',
  bases: [
    { name: BASE_S_NAME, dir: 'data/base-s', methods: [...REPRO_METHODS], train: { steps: 24, batchSize: 8, microBatch: 8 }, log: { every: 4, checkpointEvery: 8, evalEvery: 8, evalPairs: 32 } },
    {
      name: BASE_L_NAME,
      dir: 'data/base-l',
      methods: ['sft', 'dpo', 'self-dpo'],
      train: { steps: 8, batchSize: 8, microBatch: 8 },
      log: { every: 4, checkpointEvery: 8, evalEvery: 8, evalPairs: 16 },
    },
  ],
  seeds: [1],
  pick: EMOJI_PICK_DIR,
  eval: { prompts: ALL_SETS(8), sampling: { ...DEFAULT_SAMPLING }, draws: 2 },
  grid: { prompts: 6, seeds: [0, 1] },
};

/**
 * paper (v2): the protocol on Emoji-Pick with both bases, every prompt of the three sets (1,179)
 * at 2 sample seeds, 3 training seeds per method: 40 base-S units (13 methods x 3 + the base) and
 * 28 base-L units (9 x 3 + the base). Each base's lr and beta per method and its steps are the
 * tuning sweep's choices, copied from results/tuning/README.md (a test holds them equal): 700
 * steps of 16 pairs on base-S, 800 on base-L.
 *
 * Its cost, from the sweep's own runs here (2 threads, OPENBLAS_CORETYPE=SkylakeX, mostly
 * undisturbed; results/tuning/runs/*): a 400-step run, probes and loading included, took about
 * 1.1 min (SFT) and 2-3 min (Self-DPO, Diffusion-DPO) on base-S, 3-5 and 4.5-7 min on base-L; the
 * 800-step runs twice that. Evaluation (results/bench/evaluate-base-*.md, Haswell kernels, idle):
 * 15.3 images/s on base-S, 7.2 on base-L, about twice that with SkylakeX's: a model's 2,358 images
 * about 1.5 min on base-S and 3 min on base-L. Hence training about 2.5 h (base-S) + 4 h (base-L),
 * evaluating about 1 h + 1.5 h: about 9-10 h. Units resume after a stop and run on queue workers
 * (`--queue`), so it can be spread over sessions and machines.
 */
export const PAPER: ReproPreset = {
  name: 'paper',
  purpose:
    "the paper's protocol on Emoji-Pick with both bases: on base-S every method (Tables 2-4 and Table 4 at a beta where the MSE term counts, Table 5 on the web set, the curated regime), on base-L the paper's methods on Emoji-Pick, 3 training seeds each, every prompt of the three prompt sets at 2 sample seeds each, shared by every model.",
  bases: [
    {
      name: BASE_S_NAME,
      dir: 'data/base-s',
      methods: [...REPRO_METHODS],
      train: { steps: 700, batchSize: 16, microBatch: 16 },
      log: { every: 10, checkpointEvery: 50, evalEvery: 50, evalPairs: 128 },
      tuned: {
        dpo: { lr: 1e-5, beta: 5000 },
        'self-dpo': { lr: 3e-6, beta: 5000 },
        'self-dpo-beta50': { lr: 1e-6, beta: 50 },
        'self-dpo-curated': { lr: 3e-6, beta: 5000 },
        'self-dpo-web': { lr: 1e-6, beta: 5000 },
        sft: { lr: 3e-5 },
        'sft-curated': { lr: 1e-6 },
        'sft-web': { lr: 1e-6 },
      },
    },
    {
      name: BASE_L_NAME,
      dir: 'data/base-l',
      methods: BASE_L_METHODS,
      train: { steps: 800, batchSize: 16, microBatch: 16 },
      log: { every: 10, checkpointEvery: 50, evalEvery: 50, evalPairs: 128 },
      tuned: { dpo: { lr: 1e-6, beta: 5000 }, 'self-dpo': { lr: 1e-5, beta: 5000 }, 'self-dpo-beta50': { lr: 1e-6, beta: 50 }, sft: { lr: 3e-5 } },
    },
  ],
  seeds: [1, 2, 3],
  pick: EMOJI_PICK_DIR,
  eval: { prompts: { 'curated-val': 500, 'unseen-concepts': 179, 'keyword-only': 500 }, sampling: { ...DEFAULT_SAMPLING }, draws: 2 },
  grid: { prompts: 8, seeds: [0, 1, 2] },
};

/**
 * The ablations that take the lr and beta chosen for the Self-DPO they ablate rather than a sweep
 * of their own (docs/PROTOCOL.md, "Tuning"): an ablation changes one thing. A beta-50 ablation
 * keeps its own beta when its parent's choice names none (beta 50 is its point).
 */
const TUNED_AS: Readonly<Record<string, string>> = {
  'self-dpo-blur': 'self-dpo',
  'self-dpo-grid': 'self-dpo',
  'self-dpo-nearest': 'self-dpo',
  'self-dpo-no-mse': 'self-dpo',
  'self-dpo-no-mse-beta50': 'self-dpo-beta50',
};

/** The lr and beta a method trains with on a base: its own tuned choice, else that of the method it ablates, else none (configs/'s). */
export function tunedFor(base: Pick<PresetBase, 'tuned'>, method: string): { lr?: number; beta?: number } | undefined {
  const parent = TUNED_AS[method];
  return base.tuned?.[method] ?? (parent === undefined ? undefined : base.tuned?.[parent]);
}

/** Each base's folder: the preset's, unless `dirs` names another for it (`--base`, `--base-l`, a test's smoke model). */
export function baseDirs(preset: Pick<ReproPreset, 'bases'>, dirs: Readonly<Record<string, string>> = {}): Record<string, string> {
  return Object.fromEntries(preset.bases.map((b) => [b.name, dirs[b.name] ?? b.dir]));
}

export const REPRO_PRESETS: Record<string, ReproPreset> = { quick: QUICK, paper: PAPER };

export function reproPreset(name: string): ReproPreset {
  const preset = REPRO_PRESETS[name];
  if (!preset) throw new Error(`--preset: unknown preset "${name}" (known: ${Object.keys(REPRO_PRESETS).join(', ')})`);
  return preset;
}
