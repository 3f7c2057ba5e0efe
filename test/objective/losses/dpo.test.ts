import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { dpoLoss, type PairErrors } from '../../../src/objective/losses/dpo.js';
import { Rng } from '../../../src/util/rng.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);
const softplus = (x: number): number => Math.log1p(Math.exp(x));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function pair(modelW: number[], modelL: number[], refW: number[], refL: number[]): PairErrors {
  return { modelW: tf.tensor1d(modelW), modelL: tf.tensor1d(modelL), refW: tf.tensor1d(refW), refL: tf.tensor1d(refL) };
}

test('dpoLoss by hand: inside = -beta/2·((e_w - e_l) - (eref_w - eref_l)), loss = -log sigmoid(inside), ties are not wins', () => {
  // beta = 2, so C = -1. Pairs:
  // 0: the model lowered its winner error below its loser error, the reference did not: inside = -1·(-1 - 0) = 1 > 0, a win.
  // 1: model and reference equally indifferent: inside = 0, a tie, NOT a win.
  // 2: the model prefers the loser more than the reference does: inside = -1·(0.2 - 0) = -0.2, a loss.
  // 3: both prefer the winner, the model less than the reference: inside = -1·(-0.1 - (-0.4)) = -0.3.
  const e = pair([1, 0.5, 0.3, 0.2], [2, 0.5, 0.1, 0.3], [1, 0.5, 0.2, 0.1], [1, 0.5, 0.2, 0.5]);
  const d = dpoLoss(e, 2);
  const inside = [1, 0, -0.2, -0.3];
  Array.from(d.inside.dataSync()).forEach((v, i) => close(v, inside[i] as number, 1e-6, `inside[${i}]`));
  Array.from(d.loss.dataSync()).forEach((v, i) => close(v, softplus(-(inside[i] as number)), 1e-6, `loss[${i}]`));
  close(d.loss.dataSync()[1] as number, Math.log(2), 1e-6, 'a tie costs log 2');
  assert.deepEqual(Array.from(d.win.dataSync()), [1, 0, 0, 0]);
  close(d.implicitAcc.dataSync()[0] as number, 0.25, 0, 'implicit accuracy');
  assert.deepEqual(
    Array.from(d.modelDiff.dataSync()).map((x) => Math.round(x * 1e6) / 1e6),
    [-1, 0, 0.2, -0.1],
  );
  assert.deepEqual(
    Array.from(d.refDiff.dataSync()).map((x) => Math.round(x * 1e6) / 1e6),
    [0, 0, 0, -0.4],
  );
  assert.equal(d.modelW, e.modelW, 'raw errors are passed through for logging');
  assert.equal(d.refL, e.refL);
  assert.deepEqual(d.loss.shape, [4], 'per pair, not reduced');
  tf.dispose([d.loss, d.inside, d.win, d.implicitAcc, d.modelDiff, d.refDiff, e.modelW, e.modelL, e.refW, e.refL]);
});

test('dpoLoss: the sign of C = -beta/2 — a lower model winner error relative to the reference lowers the loss', () => {
  // Paper scale: beta = 5000, C = -2500. A model winner error 1e-4 below the reference's
  // (loser unchanged) gives inside = -2500·(-1e-4) = +0.25.
  const e = pair([0.0999], [0.2], [0.1], [0.2]);
  const d = dpoLoss(e, 5000);
  close(d.inside.dataSync()[0] as number, 0.25, 2e-3);
  assert.ok((d.loss.dataSync()[0] as number) < Math.log(2), 'better than a tie');
  assert.equal(d.implicitAcc.dataSync()[0], 1);
  const worse = pair([0.1001], [0.2], [0.1], [0.2]);
  const w = dpoLoss(worse, 5000);
  close(w.inside.dataSync()[0] as number, -0.25, 2e-3);
  assert.ok((w.loss.dataSync()[0] as number) > Math.log(2));
  assert.equal(w.implicitAcc.dataSync()[0], 0);
});

test('dpoLoss stays finite for |inside| in the thousands (beta = 5000 on pixel errors)', () => {
  const e = pair([0, 1], [1, 0], [0.5, 0.5], [0.5, 0.5]);
  const d = dpoLoss(e, 5000); // inside = [2500, -2500]
  const loss = Array.from(d.loss.dataSync());
  close(loss[0] as number, 0, 1e-6);
  close(loss[1] as number, 2500, 1e-2);
  const g = tf.grad((mw: tf.Tensor) => tf.sum(dpoLoss({ ...e, modelW: mw as tf.Tensor1D }, 5000).loss))(e.modelW);
  const gv = Array.from(g.dataSync());
  assert.ok(gv.every(Number.isFinite), `gradient ${gv}`);
  close(gv[1] as number, 2500, 1e-2, 'saturated: d loss/d e_w = beta/2');
});

test('dpoLoss rejects a non-positive beta and misaligned errors', () => {
  const e = pair([1], [1], [1], [1]);
  assert.throws(() => dpoLoss(e, 0), /beta/);
  assert.throws(() => dpoLoss(e, -5000), /beta/);
  assert.throws(() => dpoLoss(e, Number.NaN), /beta/);
  const bad = { ...e, refL: tf.tensor1d([1, 2]) };
  assert.throws(() => dpoLoss(bad, 1), /refL has 2 entries but modelW has 1/);
});

test('gradient check on a toy denoiser: tf.grad (wasm) equals central finite differences and the analytic form', () => {
  // Toy "model": eps_theta(x) = w ⊙ x over D pixels; e = mean over pixels of (w⊙x - eps)².
  // Winner and loser share eps (convention 5); the reference is w_ref, a constant.
  const D = 6;
  const B = 3;
  const beta = 3;
  const rng = new Rng(11);
  const rand = (n: number): number[] => Array.from({ length: n }, () => rng.normal());
  const xw = tf.tensor2d(rand(B * D), [B, D]);
  const xl = tf.tensor2d(rand(B * D), [B, D]);
  const eps = tf.tensor2d(rand(B * D), [B, D]);
  const wRef = tf.tensor1d(rand(D).map((v) => 0.5 * v));
  const w0 = rand(D).map((v) => 0.5 * v);
  const err = (w: tf.Tensor, x: tf.Tensor): tf.Tensor1D => tf.mean(tf.square(tf.sub(tf.mul(w, x), eps)), 1) as tf.Tensor1D;
  const refW = err(wRef, xw);
  const refL = err(wRef, xl);
  const lossOf = (w: tf.Tensor): tf.Scalar => tf.mean(dpoLoss({ modelW: err(w, xw), modelL: err(w, xl), refW, refL }, beta).loss) as tf.Scalar;

  const w = tf.tensor1d(w0);
  const grad = Array.from(tf.grad(lossOf)(w).dataSync());

  // Central differences in float32 with h = 1e-2 (error O(h²) on a smooth function).
  const h = 1e-2;
  const numeric = w0.map((_, k) => {
    const at = (delta: number): number => tf.tidy(() => lossOf(tf.tensor1d(w0.map((v, j) => (j === k ? v + delta : v)))).dataSync()[0] as number);
    return (at(h) - at(-h)) / (2 * h);
  });
  const scale = Math.max(...numeric.map(Math.abs));
  grad.forEach((g, k) => close(g, numeric[k] as number, 2e-3 * scale + 1e-5, `d loss/d w[${k}]`));

  // Analytic in float64: d loss_b/d w = C'·sigmoid(-inside_b)·(d e_w/d w - d e_l/d w) with C' = beta/2,
  // d e/d w_k = (2/D)·(w_k x_k - eps_k)·x_k; averaged over the B pairs.
  const X = { w: Array.from(xw.dataSync()), l: Array.from(xl.dataSync()), eps: Array.from(eps.dataSync()), ref: Array.from(wRef.dataSync()) };
  const e64 = (wv: number[], x: number[], b: number): number => {
    let s = 0;
    for (let k = 0; k < D; k++) s += ((wv[k] as number) * (x[b * D + k] as number) - (X.eps[b * D + k] as number)) ** 2;
    return s / D;
  };
  const w32 = Array.from(w.dataSync());
  const analytic = new Array<number>(D).fill(0);
  for (let b = 0; b < B; b++) {
    const inside = -0.5 * beta * (e64(w32, X.w, b) - e64(w32, X.l, b) - (e64(X.ref, X.w, b) - e64(X.ref, X.l, b)));
    for (let k = 0; k < D; k++) {
      const de = (x: number[]): number => (2 / D) * ((w32[k] as number) * (x[b * D + k] as number) - (X.eps[b * D + k] as number)) * (x[b * D + k] as number);
      analytic[k] = (analytic[k] as number) + (0.5 * beta * sigmoid(-inside) * (de(X.w) - de(X.l))) / B;
    }
  }
  grad.forEach((g, k) => close(g, analytic[k] as number, 1e-5 * scale + 1e-6, `analytic d loss/d w[${k}]`));
  tf.dispose([xw, xl, eps, wRef, refW, refL, w]);
});

test('dpoLoss inside tf.tidy leaves no tensors behind', () => {
  const e = pair([1, 2], [2, 1], [1, 1], [1, 1]);
  const before = tf.memory().numTensors;
  const acc = tf.tidy(() => dpoLoss(e, 2).implicitAcc.dataSync()[0] as number);
  assert.equal(acc, 0.5);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([e.modelW, e.modelL, e.refW, e.refL]);
});
