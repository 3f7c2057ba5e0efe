import type { ContrastiveJudge } from './contrastiveJudge.js';
import { alignScores, embedImages, embedTexts } from './judgeMetrics.js';

/**
 * Scores images for their prompts, higher = preferred: the annotator judge's Align, or any
 * function (a test's, a user's). images[i] is RGB bytes at `resolution` for prompts[i].
 */
export type ImageScorer = (images: readonly Uint8Array[], prompts: readonly string[], resolution: number) => Promise<number[]> | number[];

/** The annotator's preference (docs/PROTOCOL.md, "Emoji-Pick"): Align of each image with its prompt under a contrastive judge. */
export function alignScorer(judge: ContrastiveJudge): ImageScorer {
  return (images, captions) => alignScores(embedImages(judge, images), embedTexts(judge, captions), judge.config.embed);
}
