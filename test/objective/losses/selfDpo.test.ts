import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { dpoLoss, type PairErrors } from '../../../src/objective/losses/dpo.js';
import { SELF_DPO_DEFAULT_LAMBDAS, selfDpoLoss } from '../../../src/objective/losses/selfDpo.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);
const softplus = (x: number): number => Math.log1p(Math.exp(x));

function pair(modelW: number[], modelL: number[], refW: number[], refL: number[]): PairErrors {
  return { modelW: tf.tensor1d(modelW), modelL: tf.tensor1d(modelL), refW: tf.tensor1d(refW), refL: tf.tensor1d(refL) };
}

test('selfDpoLoss by hand: 0.5·e_w + 0.5·(-log sigmoid(inside)) per pair by default (Eq. 9)', () => {
  assert.deepEqual(SELF_DPO_DEFAULT_LAMBDAS, { lambda1: 0.5, lambda2: 0.5 });
  // beta = 4 (C = -2): inside = -2·((0.3 - 0.8) - (0.4 - 0.6)) = 0.6 and -2·((0.5 - 0.5) - 0) = 0.
  const e = pair([0.3, 0.5], [0.8, 0.5], [0.4, 0.2], [0.6, 0.2]);
  const s = selfDpoLoss(e, { beta: 4 });
  const want = [0.5 * 0.3 + 0.5 * softplus(-0.6), 0.5 * 0.5 + 0.5 * Math.log(2)];
  Array.from(s.loss.dataSync()).forEach((v, i) => close(v, want[i] as number, 1e-6, `loss[${i}]`));
  Array.from(s.dpo.dataSync()).forEach((v, i) => close(v, softplus(-[0.6, 0][i]!), 1e-6, `dpo[${i}]`));
  assert.deepEqual(Array.from(s.mse.dataSync()), Array.from(e.modelW.dataSync()));
  assert.deepEqual(Array.from(s.win.dataSync()), [1, 0], 'the tie is not a win');
  close(s.implicitAcc.dataSync()[0] as number, 0.5, 0);
  assert.equal(s.lambda1, 0.5);
  assert.equal(s.lambda2, 0.5);
});

test('selfDpoLoss with lambda1 = 0 ("w/o MSE") is lambda2 times the DPO loss; other weights by hand', () => {
  const e = pair([0.3, 0.9, 0.1], [0.8, 0.5, 0.1], [0.4, 0.2, 0.3], [0.6, 0.2, 0.3]);
  const d = Array.from(dpoLoss(e, 4).loss.dataSync());
  const noMse = Array.from(selfDpoLoss(e, { beta: 4, lambda1: 0, lambda2: 1 }).loss.dataSync());
  noMse.forEach((v, i) => close(v, d[i] as number, 1e-7, `w/o MSE [${i}]`));
  const weighted = Array.from(selfDpoLoss(e, { beta: 4, lambda1: 2, lambda2: 0.25 }).loss.dataSync());
  const mw = [0.3, 0.9, 0.1];
  weighted.forEach((v, i) => close(v, 2 * (mw[i] as number) + 0.25 * (d[i] as number), 1e-6, `weighted [${i}]`));
  // lambda1 = 0 also removes the MSE gradient: d loss/d e_w is then the DPO part alone.
  const g = (lambda1: number): number[] =>
    Array.from(
      tf
        .grad((mw2: tf.Tensor) => tf.sum(selfDpoLoss({ ...e, modelW: mw2 as tf.Tensor1D }, { beta: 4, lambda1, lambda2: 1 }).loss))(e.modelW)
        .dataSync(),
    );
  const g0 = g(0);
  const g1 = g(1);
  g1.forEach((v, i) => close(v - (g0[i] as number), 1, 1e-6, `MSE gradient share [${i}]`));
});

test('selfDpoLoss rejects negative or non-finite weights and a bad beta', () => {
  const e = pair([1], [1], [1], [1]);
  assert.throws(() => selfDpoLoss(e, { beta: 4, lambda1: -0.5 }), /lambda1/);
  assert.throws(() => selfDpoLoss(e, { beta: 4, lambda2: Number.POSITIVE_INFINITY }), /lambda2/);
  assert.throws(() => selfDpoLoss(e, { beta: 0 }), /beta/);
});
