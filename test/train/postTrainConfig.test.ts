import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methodNames, readMethodConfig, resolvePostTrainConfig, POST_TRAIN_DEFAULTS } from '../../src/train/postTrainConfig.js';

test("every method config in configs/ resolves, and the paper's methods are all there", () => {
  const names = methodNames();
  for (const want of ['sft', 'dpo', 'self-dpo', 'self-dpo-blur', 'self-dpo-grid', 'self-dpo-no-mse', 'self-dpo-nearest', 'sft-web', 'self-dpo-web', 'sft-curated', 'self-dpo-curated'])
    assert.ok(names.includes(want), want);
  const configs = Object.fromEntries(
    names.map((n) => {
      const { override, source } = readMethodConfig(n);
      return [n, resolvePostTrainConfig(override, source)];
    }),
  );
  assert.equal(configs['sft']?.method, 'sft');
  assert.equal(configs['self-dpo']?.downgrade, 'randomImage');
  assert.equal(configs['self-dpo-blur']?.downgrade, 'blur');
  assert.equal(configs['self-dpo-grid']?.downgrade, 'randomGrid');
  assert.equal(configs['self-dpo-nearest']?.downgrade, 'nearestConcept');
  assert.equal(configs['self-dpo-no-mse']?.loss.lambda1, 0);
  // The paper's methods train on Emoji-Pick (docs/PROTOCOL.md): Diffusion-DPO on its pairs, the others on its winners.
  for (const m of ['sft', 'dpo', 'self-dpo', 'self-dpo-blur', 'self-dpo-grid', 'self-dpo-no-mse', 'self-dpo-nearest'])
    assert.deepEqual(configs[m]?.data, { view: 'pairs', pairs: 'data/emoji-pick', folder: '' }, m);
  // Table 5 on the web set; the extra regime on the curated set.
  for (const m of ['sft-web', 'self-dpo-web']) assert.equal(configs[m]?.data.view, 'web', m);
  for (const m of ['sft-curated', 'self-dpo-curated']) assert.deepEqual(configs[m]?.data, { view: 'curated', pairs: '', folder: '' }, m);
  // One budget for all (docs/PROTOCOL.md): the methods differ only in their loss and losers, and
  // the paper's beta but for Table 4's second pair, at a beta where the MSE term counts.
  for (const [name, c] of Object.entries(configs)) {
    assert.deepEqual(c.train, POST_TRAIN_DEFAULTS.train, name);
    assert.equal(c.loss.beta, name.endsWith('-beta50') ? 50 : POST_TRAIN_DEFAULTS.loss.beta, name);
  }
  assert.deepEqual(
    Object.keys(configs).filter((n) => n.endsWith('-beta50')),
    ['self-dpo-beta50', 'self-dpo-no-mse-beta50'],
  );
  assert.deepEqual([configs['self-dpo-beta50']?.loss.lambda1, configs['self-dpo-no-mse-beta50']?.loss.lambda1], [POST_TRAIN_DEFAULTS.loss.lambda1, 0]);
});

test('bad method configs are rejected with the key and source named', () => {
  assert.throws(() => readMethodConfig('no-such-method'), /unknown method "no-such-method": no \S*configs\/no-such-method\.json \(known: .*self-dpo/);
  assert.throws(() => resolvePostTrainConfig({ downgrade: 'smudge' }, 'x.json'), /x\.json: downgrade: must be one of randomImage/);
  assert.throws(() => resolvePostTrainConfig({ method: 'sft' }, 'x.json'), /x\.json: downgrade: sft makes no losers/);
  assert.throws(() => resolvePostTrainConfig({ method: 'ppo' }, 'x.json'), /x\.json: method: must be one of sft, dpo, self-dpo/);
  assert.throws(() => resolvePostTrainConfig({ method: 'dpo', downgrade: '' }, 'x.json'), /data\.pairs: dpo needs preference pairs/);
  assert.throws(() => resolvePostTrainConfig({ loss: { lambda2: 0 } }, 'x.json'), /loss\.lambda2: self-dpo without its DPO term is sft/);
  assert.throws(() => resolvePostTrainConfig({ train: { microBatch: 32 } }, 'x.json'), /train\.microBatch: must be in \[1, 16\]/);
  assert.throws(() => resolvePostTrainConfig({ train: { optimizer: 'sgd' } }, 'x.json'), /train\.optimizer: must be one of adamw, adafactor/);
  assert.throws(() => resolvePostTrainConfig({ trian: {} }, 'x.json'), /x\.json: trian: unknown key/);
  assert.throws(() => resolvePostTrainConfig({ loss: { beta: 0 } }, 'x.json'), /loss\.beta: must be > 0/);
  assert.throws(() => resolvePostTrainConfig({ data: { pairs: 'p.parquet' } }, 'x.json'), /x\.json: data\.pairs: self-dpo trains on winners: set data\.view to "pairs"/);
  assert.throws(() => resolvePostTrainConfig({ data: { view: 'pairs' } }, 'x.json'), /x\.json: data\.pairs: must name a pair file when data\.view is "pairs"/);
  assert.equal(resolvePostTrainConfig({ method: 'sft', downgrade: '', data: { view: 'pairs', pairs: 'p.parquet' } }).data.view, 'pairs');
});
