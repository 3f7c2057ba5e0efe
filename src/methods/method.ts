import type { BatchData } from '../data/batchLoader.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import type { PreferencePairSet } from '../data/preferencePairs.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { PairLoss } from '../parallel/protocol.js';

/** The part of a post-training config a method reads. */
export interface MethodSettings {
  /** The registered downgrade that makes losers ('' for methods that use none). */
  readonly downgrade: string;
  readonly loss: { readonly beta: number; readonly lambda1: number; readonly lambda2: number };
  /** The data's preference-pair file: dpo's pairs, or the file whose winners other methods train on ('' when they train on an Emoji-T2I view or a folder). */
  readonly pairs: string;
  readonly seed: number;
}

/** What a run's losers can be made from. */
export interface LoserInputs {
  readonly winners: ImageTextSet;
  readonly conceptOfId: (id: string) => string;
  /** Ranked pairs, for methods whose data is 'pairs'; the winners are theirs. */
  readonly pairs?: PreferencePairSet;
  readonly model: TextToImageModel;
}

/** The losers of a batch at a step: [B,R,R,3] flat, in [-1, 1], aligned with the batch's winners. */
export type LoserMaker = (batch: BatchData, step: number) => Float32Array;

/**
 * A post-training method (docs/PROTOCOL.md, "Methods"): the data it needs, where its losers come
 * from, and its loss. The trainer asks these and compares no method names; a new method is one
 * file and one line in `registry.ts` (or `registerMethod` from a notebook).
 */
export interface Method {
  /** What configs write as `method`. */
  readonly name: string;
  /** One line for logs and tables. */
  readonly label: string;
  /** What it trains on: captioned winners, or ranked pairs (winner and loser per prompt). */
  readonly data: 'winners' | 'pairs';
  /** The preference loss on (winner, loser) pairs, or undefined when it trains on winners alone with the MSE. */
  pairLoss(settings: MethodSettings): PairLoss | undefined;
  /** How its losers are made, or undefined when it needs none. */
  losers(settings: MethodSettings, inputs: LoserInputs): LoserMaker | undefined;
  /**
   * The downgrade whose losers the held-out probe pairs with the held-out winners; a method whose
   * data is 'pairs' is probed on the held-out set's own labelled pairs when it has them (an
   * Emoji-Pick build's validation split), and on this downgrade's losers otherwise.
   */
  probeDowngrade(settings: MethodSettings): string;
  /** Throws a ConfigError naming the key when `settings` do not suit the method. */
  check(settings: MethodSettings, source: string): void;
}
