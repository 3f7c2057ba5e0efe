import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import type { EvalContext } from './evaluate.js';
import { loadContrastiveJudge, loadRealismJudge } from './judgeFile.js';
import { conceptCaptions } from './judgeValidity.js';

/** Real generator-style images by concept that no trainer read (held-out and unseen views): FID's references. */
export function realImagesByConcept(data: EmojiT2I): (concept: string) => Uint8Array[] {
  const by = new Map<string, Uint8Array[]>();
  for (const set of [data.view('heldout'), data.view('unseen')]) {
    for (let i = 0; i < set.size; i++) {
      const c = emojiConceptOfId(set.id(i));
      by.set(c, [...(by.get(c) ?? []), set.pixels(i)]);
    }
  }
  return (c) => by.get(c) ?? [];
}

/** The judges and references every evaluation shares. */
export function loadEvalContext(data: EmojiT2I, judgesDir: string): { context: EvalContext; hashes: { contrastive: string; realism: string } } {
  const contrastive = loadContrastiveJudge(join(judgesDir, 'eval'));
  const realism = loadRealismJudge(join(judgesDir, 'realism'));
  const { keys, captions } = conceptCaptions(data);
  return {
    context: { contrastive: contrastive.judge, realism: realism.judge, conceptKeys: keys, conceptCaptions: captions, realImages: realImagesByConcept(data) },
    hashes: { contrastive: contrastive.file.weightsManifest.sha256, realism: realism.file.weightsManifest.sha256 },
  };
}
