import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { registerDowngrade } from '../../src/methods/downgrades/registry.js';
import type { Method } from '../../src/methods/method.js';
import { getMethod, registeredMethodNames, registerMethod } from '../../src/methods/registry.js';
import { postTrain } from '../../src/train/postTrain.js';
import { smokeBase, smokeTrainConfig, smokeTrainData } from '../train/trainHelpers.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

/** A toy preference method: the loser is the winner upside down, scored by Diffusion-DPO. */
const upsideDown: Method = {
  name: 'toy-upside-down',
  label: 'toy: Diffusion-DPO against the winner turned upside down',
  data: 'winners',
  pairLoss: (settings) => ({ kind: 'dpo', beta: settings.loss.beta }),
  losers: () => (batch) => tf.tidy(() => tf.reverse(tf.tensor4d(batch.pixels, batch.shape), 1).dataSync() as Float32Array),
  probeDowngrade: () => 'blur',
  check: () => undefined,
};

test("the registry holds the paper's methods and names them when asked for an unknown one", () => {
  assert.deepEqual(registeredMethodNames().slice(0, 3), ['sft', 'dpo', 'self-dpo']);
  assert.equal(getMethod('sft').pairLoss({ downgrade: '', loss: { beta: 1, lambda1: 0, lambda2: 1 }, pairs: '', seed: 0 }), undefined);
  assert.deepEqual(getMethod('dpo').pairLoss({ downgrade: '', loss: { beta: 7, lambda1: 0, lambda2: 1 }, pairs: 'p.jsonl', seed: 0 }), { kind: 'dpo', beta: 7 });
  assert.equal(getMethod('dpo').data, 'pairs');
  assert.throws(() => getMethod('ppo'), /unknown method 'ppo'; expected one of sft, dpo, self-dpo/);
  assert.throws(() => registerMethod({ ...upsideDown, name: 'sft' }), /already registered/);
});

test('a toy method registered at run time trains for 2 steps through the same trainer', async () => {
  registerMethod(upsideDown);
  const base = await smokeBase();
  const config = smokeTrainConfig(base, { method: 'toy-upside-down', downgrade: '' }, { steps: 2 });
  const runDir = join(mkdtempSync(join(tmpdir(), 'toy-method-')), 'run');
  const result = await postTrain(config, smokeTrainData(), runDir, { quiet: true });
  assert.equal(result.step, 2);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 2],
  );
  // A preference step logs the loser and reference errors; the upside-down loser differs from the winner.
  for (const m of metrics) {
    assert.equal(typeof m['implicit_acc'], 'number');
    assert.ok(Math.abs((m['mse_l'] as number) - (m['mse_w'] as number)) > 0, 'loser error equals winner error');
  }
  const probe = readFileSync(join(runDir, 'heldout.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { downgrade: string });
  assert.ok(
    probe.every((p) => p.downgrade === 'blur'),
    "the probe uses the method's probe downgrade",
  );
});

test('a downgrade registered at run time trains Self-DPO for 2 steps, and its probe pairs use it', async () => {
  // The loser is the winner turned negative: far from it, so the loser error must differ.
  registerDowngrade({ name: 'toyNegative', description: 'toy: the winner negated', needs: [], apply: ({ winners, ids }) => ({ losers: tf.neg(winners), sources: [...ids] }) });
  const base = await smokeBase();
  assert.throws(() => smokeTrainConfig(base, { method: 'self-dpo', downgrade: 'toyNegativ' }), /downgrade.*must be one of randomImage, .*toyNegative for self-dpo, got "toyNegativ"/);
  const config = smokeTrainConfig(base, { method: 'self-dpo', downgrade: 'toyNegative' }, { steps: 2 });
  const runDir = join(mkdtempSync(join(tmpdir(), 'toy-downgrade-')), 'run');
  assert.equal((await postTrain(config, smokeTrainData(), runDir, { quiet: true })).step, 2);
  const lines = (file: string): Array<Record<string, unknown>> =>
    readFileSync(join(runDir, file), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const m of lines('metrics.jsonl')) assert.ok(Math.abs((m['mse_l'] as number) - (m['mse_w'] as number)) > 0, 'loser error equals winner error');
  assert.ok(lines('heldout.jsonl').every((p) => p['downgrade'] === 'toyNegative'));
});
