import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { AdamW } from '../../src/optim/adamw.js';
import { updateEma } from '../../src/optim/ema.js';
import { accumulate, clipByGlobalNorm, globalNorm } from '../../src/optim/gradients.js';
import { warmupConstant, warmupStableDecay } from '../../src/optim/lrSchedule.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('AdamW: two steps by hand, decay on matrices only', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const w = tf.variable(tf.tensor2d([[1, -2]]));
  const b = tf.variable(tf.tensor1d([3]));
  const opt = new AdamW([w, b], { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
  const lr = 0.01;
  opt.apply([tf.tensor2d([[0.5, -1]]), tf.tensor1d([2])], lr);
  // Step 1: m = 0.1 g, v = 0.001 g², corrected m̂ = g, v̂ = g², update = g/|g| = sign(g).
  // w: 1·(1 - 0.01·0.1) - 0.01·1 = 0.989; -2·0.999 + 0.01 = -1.988. b (rank 1, no decay): 3 - 0.01 = 2.99.
  let wv = w.dataSync();
  close(wv[0] as number, 0.989);
  close(wv[1] as number, -1.988);
  close(b.dataSync()[0] as number, 2.99);
  opt.apply([tf.tensor2d([[0.5, -1]]), tf.tensor1d([-2])], lr);
  // Step 2 for b: m = 0.9·0.2 + 0.1·(-2) = -0.02, v = 0.999·0.004 + 0.001·4 = 0.007996;
  // m̂ = -0.02/0.19, v̂ = 0.007996/0.001999; update = m̂/sqrt(v̂).
  const mHat = -0.02 / (1 - 0.9 ** 2);
  const vHat = 0.007996 / (1 - 0.999 ** 2);
  close(b.dataSync()[0] as number, 2.99 - lr * (mHat / (Math.sqrt(vHat) + 1e-8)), 1e-5);
  wv = w.dataSync();
  // For w the gradient repeats, so m̂ = g and v̂ = g² again: update = sign(g).
  close(wv[0] as number, 0.989 * 0.999 - 0.01, 1e-6);
  assert.equal(opt.step, 2);
  opt.dispose();
  tf.dispose([w, b]);
});

test('clipByGlobalNorm scales to the bound and reports the norm before clipping', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const grads = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
  close(globalNorm(grads), 5);
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
  close(norm, 5);
  close(globalNorm(clipped), 1, 1e-5);
  assert.deepEqual(
    Array.from(clipped[0]!.dataSync()).map((x) => Math.round(x * 1000) / 1000),
    [0.6, 0],
  );
  const small = [tf.tensor1d([0.3, 0.4])];
  const kept = clipByGlobalNorm(small, 1);
  assert.equal(kept.grads, small, 'under the bound the gradients pass through');
  tf.dispose([...clipped, ...small]);
});

test('accumulate sums aligned gradient lists', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const sum = accumulate(accumulate(null, [tf.scalar(1), tf.tensor1d([1, 2])]), [tf.scalar(2), tf.tensor1d([3, 4])]);
  assert.equal(sum[0]!.dataSync()[0], 3);
  assert.deepEqual(Array.from(sum[1]!.dataSync()), [4, 6]);
  tf.dispose(sum);
});

test('EMA: decay warms up as min(decay, (1+n)/(10+n))', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const ema = tf.variable(tf.scalar(0));
  const w = tf.variable(tf.scalar(10));
  updateEma([ema], [w], 0.999, 0); // d = 1/10
  close(ema.dataSync()[0] as number, 9);
  updateEma([ema], [w], 0.5, 1000); // d = 0.5
  close(ema.dataSync()[0] as number, 9.5);
  tf.dispose([ema, w]);
});

test('warmupConstant: linear to the base rate, then flat', () => {
  close(warmupConstant(0, 1e-3, 4), 2.5e-4);
  close(warmupConstant(3, 1e-3, 4), 1e-3);
  close(warmupConstant(100, 1e-3, 4), 1e-3);
  close(warmupConstant(0, 1e-3, 0), 1e-3);
});

test('warmupStableDecay: warmup, flat, then linear to 0 over the cooldown', () => {
  // 10 steps, warmup 2, cooldown 4: steps 6..9 run at 4/4, 3/4, 2/4, 1/4 of the rate.
  const lrs = Array.from({ length: 10 }, (_, s) => warmupStableDecay(s, 1e-3, 2, 10, 4));
  const want = [5e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 7.5e-4, 5e-4, 2.5e-4];
  lrs.forEach((lr, i) => close(lr, want[i] as number));
  close(warmupStableDecay(7, 1e-3, 2, 10, 0), 1e-3);
});
