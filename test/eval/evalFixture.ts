import type { EvalContext } from '../../src/eval/evaluate.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { loadModel, type LoadedModel } from '../../src/model/modelFile.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
import { smokeBase } from '../train/trainHelpers.js';

/** A smoke base model, tiny untrained judges over four colour concepts, and one prompt per concept. */
export async function tinyEvaluation(): Promise<{ loaded: LoadedModel; context: EvalContext; prompts: Array<{ id: string; concept: string; prompt: string }> }> {
  const loaded = loadModel(await smokeBase());
  const colours = ['red', 'green', 'blue', 'yellow'];
  const tokenizer = Tokenizer.fromCaptions(['red green blue yellow square, shape, colour'], { maxLength: 8 });
  const set = fakeImageTextSet(16);
  const context: EvalContext = {
    contrastive: ContrastiveJudge.create({ resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 }, tokenizer, 1),
    realism: RealismJudge.create({ resolution: 32, image: { channels: [8], groups: 4, width: 8 } }, 2),
    conceptKeys: colours,
    conceptCaptions: colours.map((c) => `${c} square, shape, colour`),
    realImages: (c) => Array.from({ length: 4 }, (_, k) => set.pixels(colours.indexOf(c) + 4 * k)),
  };
  const prompts = colours.map((c, i) => ({ id: `toy/${i}`, concept: c, prompt: `${c} square, shape, colour` }));
  return { loaded, context, prompts };
}
