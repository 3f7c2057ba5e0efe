import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ablationTableRows, gridSettings, settingFolder, type AblationResult } from '../../src/repro/ablationGrid.js';
import type { EvalResult } from '../../src/eval/evaluate.js';
import { methodConfig } from '../../src/train/postTrainConfig.js';

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

test("the table gives each base's scores, then each setting's win rate in % and differences with their intervals and its own scores, every metric at its digits", () => {
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
    result: { align: 53.8494, r1: 0.12, r5: 0.31, real: 20.456, fid: 0.1234 },
  } as unknown as AblationResult['rows'][number];
  const base = { align: 51.2, r1: 0.105, r5: 0.3, real: 19.94, fid: 0.0234 } as unknown as EvalResult;
  assert.deepEqual(ablationTableRows({ rows: [row], baseResults: new Map([['data/base-s', base]]) }), [
    {
      base: 'base-s',
      downgrade: '(the base)',
      lambda1: '-',
      beta: '-',
      'Align win % vs base': '-',
      'Align diff': '-',
      'R@5 diff (pts)': '-',
      'Real diff': '-',
      'pixel change': '-',
      Align: 51.2,
      'R@1 %': 10.5,
      'R@5 %': 30,
      Real: 19.9,
      FID: 0.023,
    },
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
      Align: 53.85,
      'R@1 %': 12,
      'R@5 %': 31,
      Real: 20.5,
      FID: 0.123,
    },
  ]);
});

test("a setting's folder holds its grid values and its config's hash: the same config finds it again, any other change another folder", () => {
  const setting = { downgrade: 'blur', lambda1: 0, beta: 50 };
  const config = methodConfig('self-dpo', { downgrade: 'blur', loss: { beta: 50, lambda1: 0 }, train: { steps: 150 } });
  const folder = settingFolder(setting, config);
  assert.match(folder, /^blur-lambda0-beta50-steps150-[0-9a-f]{8}$/);
  assert.equal(settingFolder(setting, methodConfig('self-dpo', { downgrade: 'blur', loss: { beta: 50, lambda1: 0 }, train: { steps: 150 } })), folder);
  const otherLr = methodConfig('self-dpo', { downgrade: 'blur', loss: { beta: 50, lambda1: 0 }, train: { steps: 150, lr: 3e-6 } });
  assert.notEqual(settingFolder(setting, otherLr), folder);
  assert.match(settingFolder(setting, otherLr), /^blur-lambda0-beta50-steps150-/);
});
