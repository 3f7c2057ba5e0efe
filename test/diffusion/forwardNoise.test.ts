import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { addNoise, noiseCoefficients } from '../../src/diffusion/forwardNoise.js';
import { makeSchedule, type NoiseSchedule } from '../../src/diffusion/schedule.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs ${e}`);
  }
}

/** A 3-step schedule whose square roots are exact: alphaBar 0.64, 0.36, 0.25. */
function handSchedule(): NoiseSchedule {
  const alphaBar = Float64Array.of(0.64, 0.36, 0.25);
  const alphas = Float64Array.of(0.64, 0.36 / 0.64, 0.25 / 0.36);
  return { kind: 'linear', steps: 3, betas: alphas.map((a) => 1 - a), alphas, alphaBar };
}

test('addNoise on [2,1,1,2] with a different t per example matches hand values', () => {
  const s = handSchedule();
  const x0 = tf.tensor4d([1, 2, 3, 4], [2, 1, 1, 2]);
  const eps = tf.tensor4d([10, 20, 30, 40], [2, 1, 1, 2]);
  // Example 0 at t=0: 0.8·[1,2] + 0.6·[10,20] = [6.8, 13.6].
  // Example 1 at t=1: 0.6·[3,4] + 0.8·[30,40] = [25.8, 34.4].
  const xt = addNoise(s, x0, eps, [0, 1]);
  assert.deepEqual(xt.shape, [2, 1, 1, 2]);
  assertClose(xt.dataSync(), [6.8, 13.6, 25.8, 34.4], 1e-5, 'xt t=[0,1]');
  xt.dispose();
  // Swapping the timesteps swaps the coefficients: 0.6·[1,2] + 0.8·[10,20], 0.8·[3,4] + 0.6·[30,40].
  const swapped = addNoise(s, x0, eps, [1, 0]);
  assertClose(swapped.dataSync(), [8.6, 17.2, 20.4, 27.2], 1e-5, 'xt t=[1,0]');
  swapped.dispose();
  // t=2: 0.5·x0 + sqrt(0.75)·eps.
  const last = addNoise(s, x0, eps, [2, 2]);
  const r = Math.sqrt(0.75);
  assertClose(last.dataSync(), [0.5 + 10 * r, 1 + 20 * r, 1.5 + 30 * r, 2 + 40 * r], 1e-4, 'xt t=[2,2]');
  last.dispose();
  tf.dispose([x0, eps]);
});

test('addNoise on the real scaled-linear schedule: t=0 and t=1 from the betas by hand', () => {
  const s = makeSchedule('scaled-linear', 1000);
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  const aBar0 = 1 - 0.00085;
  const aBar1 = aBar0 * (1 - (a + (b - a) / 999) ** 2);
  const x0 = tf.tensor4d([1, -1, 0.5, 0], [2, 1, 1, 2]);
  const eps = tf.tensor4d([2, 3, -1, 4], [2, 1, 1, 2]);
  const xt = addNoise(s, x0, eps, [0, 1]);
  const expected = [
    Math.sqrt(aBar0) * 1 + Math.sqrt(1 - aBar0) * 2,
    Math.sqrt(aBar0) * -1 + Math.sqrt(1 - aBar0) * 3,
    Math.sqrt(aBar1) * 0.5 + Math.sqrt(1 - aBar1) * -1,
    Math.sqrt(aBar1) * 0 + Math.sqrt(1 - aBar1) * 4,
  ];
  assertClose(xt.dataSync(), expected, 1e-6, 'xt');
  tf.dispose([xt, x0, eps]);
});

test('noiseCoefficients gives [B,1,1,1] sqrt(alphaBar) and sqrt(1 - alphaBar)', () => {
  const { signal, noise } = noiseCoefficients(handSchedule(), [0, 1, 2]);
  assert.deepEqual(signal.shape, [3, 1, 1, 1]);
  assert.deepEqual(noise.shape, [3, 1, 1, 1]);
  assertClose(signal.dataSync(), [0.8, 0.6, 0.5], 1e-7, 'signal');
  assertClose(noise.dataSync(), [0.6, 0.8, Math.sqrt(0.75)], 1e-7, 'noise');
  tf.dispose([signal, noise]);
});

test('noiseCoefficients rejects timesteps out of range or not integers, naming them', () => {
  const s = handSchedule();
  const before = tf.memory().numTensors;
  assert.throws(() => noiseCoefficients(s, [3]), /timestep 3 outside 0\.\.2/);
  assert.throws(() => noiseCoefficients(s, [0, -1]), /timestep -1 outside 0\.\.2/);
  assert.throws(() => noiseCoefficients(s, [1.5]), /timestep 1\.5 outside 0\.\.2/);
  assert.throws(() => noiseCoefficients(s, [Number.NaN]), /timestep NaN outside/);
  assert.throws(() => noiseCoefficients(makeSchedule('linear', 1000), [1000]), /timestep 1000 outside 0\.\.999/);
  const x = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
  assert.throws(() => addNoise(s, x, x, [7]), /timestep 7 outside 0\.\.2/);
  x.dispose();
  assert.equal(tf.memory().numTensors, before, 'a rejected call leaks no tensors');
});
