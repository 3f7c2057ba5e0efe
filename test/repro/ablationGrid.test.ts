import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ablationTableRows, gridSettings, type AblationResult } from '../../src/repro/ablationGrid.js';

test('a grid is every combination, bases outermost, then downgrades, lambda1 and beta in the order given', () => {
  const settings = gridSettings({ downgrades: ['blur', 'randomImage'], lambda1: [0.5, 0], beta: [5000], bases: ['data/base-s', 'data/base-l'] });
  assert.deepEqual(
    settings.map((s) => `${s.base} ${s.downgrade} ${s.lambda1} ${s.beta}`),
    [
      'data/base-s blur 0.5 5000',
      'data/base-s blur 0 5000',
      'data/base-s randomImage 0.5 5000',
      'data/base-s randomImage 0 5000',
      'data/base-l blur 0.5 5000',
      'data/base-l blur 0 5000',
      'data/base-l randomImage 0.5 5000',
      'data/base-l randomImage 0 5000',
    ],
  );
});

test("the table gives the win rate in % and each difference with its interval, as the row's numbers say", () => {
  const row = {
    base: 'data/base-s',
    downgrade: 'blur',
    lambda1: 0.5,
    beta: 5000,
    label: 'blur, λ1 0.5, β 5000',
    alignWin: { mean: 0.6, low: 0.51, high: 0.69 },
    alignDiff: { mean: 0.4981, low: 0.1562, high: 0.9551 },
    r5Diff: { mean: 1, low: -2, high: 4 },
    realDiff: { mean: 0.34, low: -0.71, high: 1.44 },
    pixelChange: 2.3167,
    result: { align: 53.8494, r5: 0.31, fid: 0.1234 },
  } as unknown as AblationResult['rows'][number];
  assert.deepEqual(ablationTableRows({ rows: [row], baseResults: new Map() }), [
    {
      base: 'base-s',
      downgrade: 'blur',
      lambda1: 0.5,
      beta: 5000,
      'Align win % vs base': '60.0 [51.0, 69.0]',
      'Align diff': '0.498 [0.156, 0.955]',
      'R@5 diff (pts)': '1.0 [-2.0, 4.0]',
      'Real diff': '0.3 [-0.7, 1.4]',
      'pixel change': 2.32,
      Align: 53.849,
      'R@5 %': 31,
      FID: 0.1,
    },
  ]);
});
