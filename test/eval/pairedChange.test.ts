import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EvalResult, PromptScore } from '../../src/eval/evaluate.js';
import { pairedChange } from '../../src/eval/pairedChange.js';

const result = (model: string, scores: Array<Pick<PromptScore, 'align' | 'rank' | 'real'>>): EvalResult =>
  ({ model, perPrompt: scores.map((s, i) => ({ id: `p${i}`, concept: 'c', seed: i, ...s })) }) as unknown as EvalResult;

test('paired change: pixel change in byte levels and per-prompt score differences (values by hand)', () => {
  const base = {
    result: result('base', [
      { align: 10, rank: 1, real: 50 },
      { align: 20, rank: 9, real: 60 },
    ]),
    images: [Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([100, 100, 100, 100])],
  };
  const model = {
    result: result('run', [
      { align: 13, rank: 2, real: 40 },
      { align: 25, rank: 3, real: 70 },
    ]),
    images: [Uint8Array.from([4, 0, 0, 0]), Uint8Array.from([100, 90, 100, 100])],
  };
  const c = pairedChange(base, model);
  // |4| + |10| over 8 bytes.
  assert.equal(c.pixelChange, 14 / 8);
  assert.equal(c.alignDiff.mean, 4);
  assert.ok(c.alignDiff.low >= 3 && c.alignDiff.high <= 5);
  // R@5 hits: base 100, 0; model 100, 100: +50 points.
  assert.equal(c.r5Diff.mean, 50);
  assert.equal(c.realDiff.mean, 0);
  assert.throws(() => pairedChange(base, { ...model, result: result('other', [{ align: 1, rank: 1, real: 1 }]) }), /other and base were not evaluated on the same prompts/);
});
