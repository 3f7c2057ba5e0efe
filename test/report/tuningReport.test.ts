import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSetting, type TuningRow } from '../../src/report/tuningReport.js';

const row = (name: string, probeAcc: number, mseChange: number): TuningRow => ({
  name,
  method: 'self-dpo',
  downgrade: 'randomImage',
  lr: 1e-5,
  beta: 5000,
  steps: 150,
  probeAcc,
  probeDpo: 0.5,
  mseChange,
  trainAcc: 0.7,
});

test('chooseSetting: the best curated-val implicit accuracy among runs that did not denoise worse by more than 2%', () => {
  const rows = [row('a', 0.8, 0.1), row('b', 0.9, 3), row('c', 0.85, -0.5), row('d', 0.85, 1)];
  assert.equal(chooseSetting(rows)?.name, 'c', 'b denoises 3% worse; c and d tie on accuracy, c denoises better');
  assert.equal(chooseSetting(rows, 5)?.name, 'b');
  assert.equal(chooseSetting([row('x', 0.9, 2.5)]), undefined);
});
