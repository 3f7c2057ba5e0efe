import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { presetMethodConfig } from '../../src/repro/presetMethodConfig.js';

/** The config a committed paper unit recorded when it trained (results/paper/runs/<unit>/config.json). */
function recorded(unit: string): Record<string, unknown> {
  return (JSON.parse(readFileSync(`results/paper/runs/${unit}/config.json`, 'utf8')) as { config: Record<string, unknown> }).config;
}

const withoutDescription = (c: object): Record<string, unknown> => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'description'));

test("presetMethodConfig gives the config the paper reproduction's units trained with, on either base", () => {
  const onL = presetMethodConfig('paper', 'dpo', { baseDir: 'data/base-l', seed: 3 });
  assert.equal(onL.base.name, 'base-L');
  assert.deepEqual(withoutDescription(onL.config), withoutDescription(recorded('base-L/dpo-s3')));
  // Base-S by default, at the preset's first training seed.
  const onS = presetMethodConfig('paper', 'self-dpo-no-mse');
  assert.equal(onS.base.name, 'base-S');
  assert.deepEqual(withoutDescription(onS.config), withoutDescription(recorded('self-dpo-no-mse-s1')));
  // By hand, from the preset: base-S's w/o-MSE ablation takes its Self-DPO's lr (over configs/'s 1e-5),
  // base-L's Diffusion-DPO its own.
  assert.equal(onS.config.train.lr, 3e-6);
  assert.equal(onS.config.train.steps, 700);
  assert.equal(onS.config.loss.lambda1, 0);
  assert.equal(onL.config.train.lr, 1e-6);
  assert.equal(onL.config.train.steps, 800);
  assert.match(onL.config.description, /the paper preset's setting on base-L/);
  // A notebook names the base and its own path to it.
  const fromNotebook = presetMethodConfig('paper', 'dpo', { base: 'base-L', baseDir: '../data/base-l', seed: 3 });
  assert.deepEqual(withoutDescription(fromNotebook.config), { ...withoutDescription(onL.config), base: '../data/base-l' });
});

test('presetMethodConfig names what the preset has when the base folder or the method is not in it', () => {
  assert.throws(() => presetMethodConfig('paper', 'self-dpo', { baseDir: 'data/weak' }), /--base data\/weak is none of the paper preset's bases \(base-S: data\/base-s, base-L: data\/base-l\)/);
  assert.throws(() => presetMethodConfig('paper', 'sft-web', { base: 'base-L' }), /--method sft-web: the paper preset does not train it on base-L \(its methods there: sft, dpo, self-dpo,/);
  assert.throws(() => presetMethodConfig('nope', 'self-dpo'), /unknown preset "nope"/);
});
