import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { combineGuidance, guidedEps } from '../../src/diffusion/guidance.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs((actual[i] as number) - (expected[i] as number)) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('combineGuidance = uncond + w·(cond - uncond), by hand', () => {
  const cond = tf.tensor4d([1, 2, 3, 4], [2, 1, 1, 2]);
  const uncond = tf.tensor4d([0.5, -1, 3, 10], [2, 1, 1, 2]);
  // w = 3: 0.5 + 3·0.5 = 2; -1 + 3·3 = 8; 3 + 0 = 3; 10 + 3·(-6) = -8.
  const g3 = combineGuidance(cond, uncond, 3);
  assert.deepEqual(g3.shape, [2, 1, 1, 2]);
  assertClose(g3.dataSync(), [2, 8, 3, -8], 1e-6, 'w=3');
  // w = 1 is the conditional prediction; w = 0 the unconditional one.
  const g1 = combineGuidance(cond, uncond, 1);
  assertClose(g1.dataSync(), [1, 2, 3, 4], 1e-6, 'w=1');
  const g0 = combineGuidance(cond, uncond, 0);
  assertClose(g0.dataSync(), [0.5, -1, 3, 10], 1e-6, 'w=0');
  // w = 7.5: 0.5 + 3.75 = 4.25; -1 + 22.5 = 21.5; 3; 10 - 45 = -35.
  const g75 = combineGuidance(cond, uncond, 7.5);
  assertClose(g75.dataSync(), [4.25, 21.5, 3, -35], 1e-5, 'w=7.5');
  tf.dispose([cond, uncond, g3, g1, g0, g75]);
});

test('guidedEps with w = 1 calls only the conditional function and returns exactly its output', () => {
  const xt = tf.tensor4d([1, 2, 3, 4, 5, 6], [2, 1, 1, 3]);
  let bothCalls = 0;
  let condCalls = 0;
  let condOut: tf.Tensor4D | undefined;
  const out = guidedEps(
    () => {
      bothCalls++;
      throw new Error('the doubled batch must not run at w = 1');
    },
    (x) => {
      condCalls++;
      assert.equal(x, xt, 'the conditional function sees xt itself');
      condOut = tf.mul(x, 2) as tf.Tensor4D;
      return condOut;
    },
    xt,
    1,
  );
  assert.equal(bothCalls, 0);
  assert.equal(condCalls, 1);
  assert.equal(out, condOut, 'the very tensor the conditional function returned');
  assertClose(out.dataSync(), [2, 4, 6, 8, 10, 12], 0, 'values');
  tf.dispose([xt, out]);
});

test('guidedEps with w = 3 runs one doubled batch [xt; xt], cond first, and combines the halves', () => {
  const B = 2;
  const xt = tf.tensor4d([1, 2, 3, 4, 5, 6], [B, 1, 1, 3]);
  const xv = Array.from(xt.dataSync());
  let bothCalls = 0;
  let condCalls = 0;
  const before = tf.memory().numTensors;
  const out = guidedEps(
    (x2) => {
      bothCalls++;
      assert.deepEqual(x2.shape, [2 * B, 1, 1, 3]);
      assert.deepEqual(Array.from(x2.dataSync()), [...xv, ...xv], 'both halves are xt');
      // First half (conditional): x; second half (unconditional): 10·x + 1.
      const scale = tf.tensor4d([1, 1, 10, 10], [2 * B, 1, 1, 1]);
      const shift = tf.tensor4d([0, 0, 1, 1], [2 * B, 1, 1, 1]);
      return tf.add(tf.mul(x2, scale), shift) as tf.Tensor4D;
    },
    () => {
      condCalls++;
      throw new Error('the conditional-only function must not run at w != 1');
    },
    xt,
    3,
  );
  assert.equal(bothCalls, 1);
  assert.equal(condCalls, 0);
  assert.deepEqual(out.shape, [B, 1, 1, 3]);
  // uncond + 3·(cond - uncond) = (10x + 1) + 3·(x - 10x - 1) = -17x - 2.
  assertClose(
    out.dataSync(),
    xv.map((x) => -17 * x - 2),
    1e-4,
    'guided',
  );
  assert.equal(tf.memory().numTensors, before + 1, 'only the result survives');
  tf.dispose([xt, out]);
});
