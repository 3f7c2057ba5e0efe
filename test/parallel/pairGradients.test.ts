import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { makeSchedule } from '../../src/diffusion/schedule.js';
import { TextToImageModel } from '../../src/model/textToImage.js';
import type { Params } from '../../src/model/params.js';
import { selfDpoLoss } from '../../src/objective/losses/selfDpo.js';
import { pairErrors } from '../../src/objective/pairErrors.js';
import { pairGradients } from '../../src/parallel/pairGradients.js';
import type { PairJob } from '../../src/parallel/protocol.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import { Tokenizer } from '../../src/text/tokenizer.js';

/**
 * pairGradients encodes the captions once when the text encoder is frozen and the same in the
 * reference; the result must be the gradient of the loss written out plainly, each pass
 * encoding its own captions with its own weights.
 */
test('pair gradients with the captions encoded once equal the plain computation; a reference with another text encoder encodes its own', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const config = resolvePretrainConfig(SMOKE_OVERRIDE).model;
  const model = TextToImageModel.create(config, Tokenizer.fromCaptions(['red blue square'], { maxLength: config.maxWords }), 7);
  tf.tidy(() => model.params.variables.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 300 + i), 0.05)))));
  const schedule = makeSchedule('scaled-linear', 1000);
  const unet = model.params.names.filter((n) => n.startsWith('unet/'));
  const variables = unet.map((n) => model.params.variable(n));
  const n = 3;
  const per = 32 * 32 * 3;
  const rand = (seed: number): Float32Array => Float32Array.from({ length: n * per }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.9);
  const job: PairJob = {
    kind: 'pairs',
    winners: rand(1),
    losers: rand(2),
    eps: rand(3),
    t: [50, 500, 950],
    captions: ['red square', 'blue', ''],
    weight: 1 / n,
    microBatch: n,
    loss: { kind: 'selfDpo', beta: 500, lambda1: 0.5, lambda2: 0.5 },
  };
  const plain = (reference: Params): { loss: number; grads: Float32Array[] } => {
    const tensor = (a: Float32Array): tf.Tensor4D => tf.tensor4d(a, [n, 32, 32, 3]);
    const pairs = { winners: tensor(job.winners), losers: tensor(job.losers), eps: tensor(job.eps), t: job.t, captions: job.captions };
    const [refW, refL] = pairErrors(model, schedule, pairs, undefined, reference);
    const { value, grads } = tf.variableGrads(() => {
      const [modelW, modelL] = pairErrors(model, schedule, pairs, undefined);
      return tf.mul(tf.sum(selfDpoLoss({ modelW, modelL, refW, refL }, job.loss as { kind: 'selfDpo'; beta: number; lambda1: number; lambda2: number }).loss), job.weight) as tf.Scalar;
    }, variables);
    const out = { loss: value.dataSync()[0] as number, grads: variables.map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array) };
    tf.dispose([value, ...Object.values(grads), refW, refL, pairs.winners, pairs.losers, pairs.eps]);
    return out;
  };
  const worstRelative = (a: readonly Float32Array[], b: readonly tf.Tensor[]): number => {
    let worst = 0;
    let scale = 0;
    a.forEach((g, i) => {
      const h = (b[i] as tf.Tensor).dataSync();
      g.forEach((x, e) => {
        worst = Math.max(worst, Math.abs(x - (h[e] as number)));
        scale = Math.max(scale, Math.abs(x));
      });
    });
    return worst / scale;
  };

  // The reference: the policy's weights before its UNet drifted, text encoder the same.
  const reference = model.params.clone(false);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 400 + i), 0.01)))));
  const want = plain(reference);
  const got = pairGradients(model, reference, schedule, variables, job);
  assert.ok(Math.abs(got.loss - want.loss) <= 1e-5 * (1 + Math.abs(want.loss)), `loss ${got.loss} vs ${want.loss}`);
  assert.ok(worstRelative(want.grads, got.grads) < 1e-5, `gradients differ by ${worstRelative(want.grads, got.grads)}`);
  tf.dispose(got.grads);

  // A reference whose text encoder differs: it must encode with its own weights.
  const otherText = model.params.clone(false);
  const textName = model.params.names.find((name) => name.startsWith('text/') && model.params.variable(name).size > 16) as string;
  tf.tidy(() => otherText.variable(textName).assign(tf.add(otherText.variable(textName), 0.5)));
  const wantOther = plain(otherText);
  const gotOther = pairGradients(model, otherText, schedule, variables, job);
  assert.ok(Math.abs(gotOther.loss - wantOther.loss) <= 1e-5 * (1 + Math.abs(wantOther.loss)), `loss ${gotOther.loss} vs ${wantOther.loss}`);
  assert.ok(worstRelative(wantOther.grads, gotOther.grads) < 1e-5, `gradients differ by ${worstRelative(wantOther.grads, gotOther.grads)}`);
  assert.ok(Math.abs(wantOther.loss - want.loss) > 1e-6, 'the changed text encoder changes the loss: the case tests the guard');
  tf.dispose(gotOther.grads);
  reference.dispose();
  otherText.dispose();
});
