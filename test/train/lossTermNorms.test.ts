import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { makeSchedule, type NoiseSchedule } from '../../src/diffusion/schedule.js';
import type { Params } from '../../src/model/params.js';
import { TextToImageModel } from '../../src/model/textToImage.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { denoisingError } from '../../src/objective/denoisingError.js';
import { globalNorm } from '../../src/optim/gradients.js';
import { lossTermGradientNorms } from '../../src/train/lossTermNorms.js';
import type { PairProbe } from '../../src/train/pairProbe.js';
import { predictionErrorWeights } from '../../src/objective/predictionError.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import { Rng } from '../../src/util/rng.js';

interface Fixture {
  model: TextToImageModel;
  reference: Params;
  schedule: NoiseSchedule;
  probe: PairProbe;
  variables: tf.Variable[];
}

/** Runs `check` on a smoke-sized model off its initial weights, its frozen copy as the reference, and 6 random pairs. */
async function withFixture(check: (f: Fixture) => void): Promise<void> {
  await initBackend({ backend: 'wasm', quiet: true });
  const config = resolvePretrainConfig(SMOKE_OVERRIDE).model;
  const model = TextToImageModel.create(config, Tokenizer.fromCaptions(['red blue square'], { maxLength: config.maxWords }), 3);
  // Off the initial weights, so the UNet's zero output layer does not leave most gradients at 0.
  tf.tidy(() => model.params.variables.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', i), 0.05)))));
  const R = config.resolution;
  const n = 6;
  const rng = new Rng(5);
  const images = (): Float32Array => Float32Array.from({ length: n * R * R * 3 }, () => 2 * rng.next() - 1);
  const probe: PairProbe = {
    name: 'test',
    downgrade: 'randomImage',
    size: n,
    resolution: R,
    winners: images(),
    losers: images(),
    captions: ['red square', 'blue square', 'red', 'blue', 'square', ''],
    t: [10, 200, 450, 600, 800, 990],
    eps: Float32Array.from({ length: n * R * R * 3 }, () => rng.normal()),
  };
  const variables = model.params.names.filter((name) => name.startsWith('unet/')).map((name) => model.params.variable(name));
  const reference = model.params.clone(false);
  try {
    check({ model, reference, schedule: makeSchedule('cosine', 1000), probe, variables });
  } finally {
    reference.dispose();
    model.params.dispose();
  }
}

/** The gradient norm of f's value with respect to `variables`, straight from tf.variableGrads. */
function directNorm(f: () => tf.Scalar, variables: tf.Variable[]): number {
  const { value, grads } = tf.variableGrads(f, variables);
  const list = variables.map((v) => grads[v.name] as tf.Tensor);
  const n = globalNorm(list);
  tf.dispose([value, ...list]);
  return n;
}

test('the loss-term gradient norms equal the gradients of the terms written out by hand, at policy = reference', () =>
  withFixture(({ model, reference, schedule, probe, variables }) => {
    const lambda1 = 0.5;
    const lambda2 = 0.5;
    const norms = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta: 5000, lambda1, lambda2 }, 4);
    const R = probe.resolution;
    const batch = (images: Float32Array): { x0: tf.Tensor4D; eps: tf.Tensor4D; t: number[]; captions: string[] } => ({
      x0: tf.tensor4d(images, [probe.size, R, R, 3]),
      eps: tf.tensor4d(probe.eps, [probe.size, R, R, 3]),
      t: probe.t,
      captions: probe.captions,
    });
    const weights = tf.tensor1d(predictionErrorWeights(model.config.prediction, schedule, probe.t) ?? probe.t.map(() => 1));
    const error = (images: Float32Array): tf.Tensor1D => tf.mul(denoisingError(model, schedule, batch(images)), weights) as tf.Tensor1D;
    // L_MSE: the winners' mean weighted error.
    const mse = directNorm(() => tf.mul(lambda1, tf.mean(error(probe.winners))) as tf.Scalar, variables);
    // At policy = reference the sigmoid's argument is 0, so d/dθ -log σ(-β/2·(Δθ - Δref)) = σ(0)·β/2·dΔθ/dθ = β/4·dΔθ/dθ, Δ = e_w - e_l.
    const preference = directNorm(() => tf.mul(lambda2 * (5000 / 4), tf.mean(tf.sub(error(probe.winners), error(probe.losers)))) as tf.Scalar, variables);
    weights.dispose();
    assert.ok(mse > 0 && preference > 0);
    assert.ok(Math.abs(norms.mse - mse) / mse < 1e-4, `MSE term: ${norms.mse} against ${mse} by hand`);
    assert.ok(Math.abs(norms.preference - preference) / preference < 1e-3, `preference term: ${norms.preference} against ${preference} by hand`);
    assert.ok(Math.abs(norms.ratio - norms.preference / norms.mse) < 1e-9);
    assert.ok(norms.total <= norms.mse + norms.preference + 1e-6 && norms.total >= Math.abs(norms.preference - norms.mse) - 1e-6, 'the whole loss obeys the triangle inequality');
    assert.equal(norms.pairs, probe.size);
  }));

test('the preference term scales with beta and lambda2, the MSE term with lambda1 only; lambda1 = 0 has no MSE pull', () =>
  withFixture(({ model, reference, schedule, probe, variables }) => {
    const base = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta: 5000, lambda1: 0.5, lambda2: 0.5 });
    const tenthBeta = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta: 500, lambda1: 0.5, lambda2: 0.5 });
    const doubled = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta: 5000, lambda1: 1, lambda2: 1 });
    const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) / b < 1e-3, `${what}: ${a} against ${b}`);
    close(base.preference / tenthBeta.preference, 10, 'preference norm, beta 5000 over 500');
    close(tenthBeta.mse, base.mse, 'MSE norm, beta 500 against 5000');
    close(doubled.mse, 2 * base.mse, 'MSE norm, lambda1 doubled');
    close(doubled.preference, 2 * base.preference, 'preference norm, lambda2 doubled');
    const noMse = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta: 5000, lambda1: 0, lambda2: 0.5 });
    assert.equal(noMse.mse, 0);
    assert.equal(noMse.ratio, Infinity);
    close(noMse.total, base.preference, 'the whole loss without MSE against the preference term alone');
  }));
