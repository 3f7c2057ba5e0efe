import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { makeSchedule } from '../../src/diffusion/schedule.js';
import { loadModel, MODEL_FORMAT, saveModel } from '../../src/model/modelFile.js';
import { TextToImageModel, type ModelConfig } from '../../src/model/textToImage.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { Rng } from '../../src/util/rng.js';

const CAPTIONS = ['a red apple', 'a blue car', 'green tree on a hill', 'red car'];

function tinyConfig(resolution = 32): ModelConfig {
  return {
    resolution,
    maxWords: 6,
    text: { width: 16, layers: 1, heads: 2 },
    unet: { channels: [8, 16], resBlocks: [1, 1], attentionLevels: [1], heads: 2, groups: 4, embedWidth: 16 },
    prediction: 'eps',
  };
}

const SCHEDULE = makeSchedule('scaled-linear', 1000);

const tokenizer = (): Tokenizer => Tokenizer.fromCaptions(CAPTIONS, { maxLength: 6 });

let tmp = '';
let model: TextToImageModel;

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  tmp = mkdtempSync(join(tmpdir(), 'selfdpo-t2i-test-'));
  model = TextToImageModel.create(tinyConfig(), tokenizer(), 7);
});

after(() => {
  model.params.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** Deterministic noisy images [B,R,R,3]. */
function noisyImages(B: number, R: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(
    Float32Array.from({ length: B * R * R * 3 }, () => rng.normal()),
    [B, R, R, 3],
  );
}

/** eps predicted for captions at timesteps t, read back. */
function predict(m: TextToImageModel, captions: string[], t: number[], seed = 1): { shape: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const eps = m.predictEps(noisyImages(captions.length, m.config.resolution, seed), t, m.encode(captions), SCHEDULE);
    return { shape: eps.shape, data: Float32Array.from(eps.dataSync()) };
  });
}

/** Moves every parameter off its initial value so predictions depend on all of them. */
function perturb(m: TextToImageModel, seed: number): void {
  const rng = new Rng(seed);
  for (const name of m.params.names) {
    const v = m.params.variable(name);
    tf.tidy(() =>
      v.assign(
        tf.add(
          v,
          tf.tensor(
            Float32Array.from({ length: v.size }, () => 0.05 * rng.normal()),
            v.shape,
          ),
        ),
      ),
    );
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

test('a fresh model predicts exactly zeros of the input shape (the output conv starts at zero)', () => {
  const out = predict(model, ['a red apple', 'blue car'], [0, 999]);
  assert.deepEqual(out.shape, [2, 32, 32, 3]);
  assert.ok(
    out.data.every((x) => x === 0),
    'every value is exactly 0',
  );
  assert.ok(model.params.names.every((n) => n.startsWith('text/') || n.startsWith('unet/')));
  const counts = model.parameterCounts();
  assert.equal(counts.text + counts.unet, model.params.size);
  assert.ok(counts.text > 0 && counts.unet > 0);
  assert.ok(model.unetVariables().length > 0);
  assert.equal(
    model.unetVariables().reduce((n, v) => n + v.size, 0),
    counts.unet,
  );
});

test('encode: tokens [B, maxWords+1, width], keyBias masks padding, pooled [B, width] is the start token', () => {
  const captions = ['a red apple', '', 'zebra unknown words here and more than six words'];
  const got = tf.tidy(() => {
    const ctx = model.encode(captions);
    return {
      tokensShape: ctx.tokens.shape,
      keyBiasShape: ctx.keyBias.shape,
      pooledShape: ctx.pooled.shape,
      keyBias: Array.from(ctx.keyBias.dataSync()),
      tokens: Float32Array.from(ctx.tokens.dataSync()),
      pooled: Float32Array.from(ctx.pooled.dataSync()),
    };
  });
  const [B, L, D] = [3, 7, 16];
  assert.deepEqual(got.tokensShape, [B, L, D]);
  assert.deepEqual(got.keyBiasShape, [B, L]);
  assert.deepEqual(got.pooledShape, [B, D]);
  const M = Math.fround(-1e9);
  // 'a red apple': start + 3 words; '': the start token alone; 9 words cut to 6.
  assert.deepEqual(
    got.keyBias.map((x) => x + 0),
    [0, 0, 0, 0, M, M, M, 0, M, M, M, M, M, M, 0, 0, 0, 0, 0, 0, 0],
  );
  for (let b = 0; b < B; b++) {
    assert.deepEqual(Array.from(got.pooled.subarray(b * D, (b + 1) * D)), Array.from(got.tokens.subarray(b * L * D, b * L * D + D)), `pooled ${b}`);
  }
  assert.ok(got.tokens.every(Number.isFinite));
  // Different captions give different pooled vectors.
  assert.ok(maxAbsDiff(got.pooled.subarray(0, D), got.pooled.subarray(D, 2 * D)) > 1e-4);
});

test('the empty caption works through the whole model', () => {
  const out = predict(model, [''], [500]);
  assert.deepEqual(out.shape, [1, 32, 32, 3]);
  assert.ok(out.data.every(Number.isFinite));
});

test('a 64x64 model works', () => {
  const big = TextToImageModel.create(tinyConfig(64), tokenizer(), 3);
  try {
    const out = predict(big, ['a red apple', ''], [10, 20]);
    assert.deepEqual(out.shape, [2, 64, 64, 3]);
    assert.ok(out.data.every((x) => x === 0));
    // Same architecture apart from the input size: the same parameter names and shapes.
    assert.deepEqual(big.params.names, model.params.names);
    for (const n of big.params.names) assert.deepEqual(big.params.variable(n).shape, model.params.variable(n).shape, n);
  } finally {
    big.params.dispose();
  }
});

test('a tokenizer whose maxLength differs from maxWords is refused', () => {
  const other = Tokenizer.fromCaptions(CAPTIONS, { maxLength: 5 });
  assert.throws(() => new TextToImageModel(tinyConfig(), other, model.params), /tokenizer maxLength 5 differs from the model's maxWords 6/);
});

test('tf.memory().numTensors is unchanged by a forward pass inside tf.tidy', () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    model.predictEps(noisyImages(2, 32, 5), [1, 2], model.encode(['a red apple', '']), SCHEDULE);
  });
  assert.equal(tf.memory().numTensors, before);
  // The same holds with the result read back and returned as numbers.
  predict(model, ['red car'], [3]);
  assert.equal(tf.memory().numTensors, before);
});

test('with trained-looking weights the prediction depends on the caption and on t', () => {
  const m = TextToImageModel.create(tinyConfig(), tokenizer(), 11);
  try {
    perturb(m, 99);
    const base = predict(m, ['a red apple'], [100]);
    assert.ok(
      base.data.some((x) => Math.abs(x) > 1e-3),
      'no longer zero',
    );
    assert.ok(maxAbsDiff(base.data, predict(m, ['a blue car'], [100]).data) > 1e-5, 'caption matters');
    assert.ok(maxAbsDiff(base.data, predict(m, ['a red apple'], [900]).data) > 1e-5, 't matters');
    // Examples in a batch are independent: example 0 alone equals example 0 in a batch of 2.
    const pair = tf.tidy(() => {
      const x = tf.concat([noisyImages(1, 32, 1), noisyImages(1, 32, 2)], 0) as tf.Tensor4D;
      return Float32Array.from(m.predictEps(x, [100, 7], m.encode(['a red apple', 'green tree']), SCHEDULE).dataSync());
    });
    assert.ok(maxAbsDiff(pair.subarray(0, base.data.length), base.data) < 1e-5, 'batching does not mix examples');
  } finally {
    m.params.dispose();
  }
});

test('saveModel / loadModel round-trip gives identical predictions', async () => {
  const m = TextToImageModel.create(tinyConfig(), tokenizer(), 5);
  const dir = join(tmp, 'roundtrip');
  try {
    perturb(m, 123);
    const file = await saveModel(dir, m, { kind: 'cosine', steps: 100 }, { note: 'test' });
    assert.equal(file.format, MODEL_FORMAT);
    const onDisk = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as typeof file;
    assert.deepEqual(onDisk.model, tinyConfig());
    assert.equal(onDisk.weightsManifest.file, 'weights.bin');
    assert.equal(readFileSync(join(dir, 'weights.bin')).length, 4 * m.params.size);
    const loaded = loadModel(dir);
    try {
      assert.deepEqual(loaded.model.config, m.config);
      assert.deepEqual(loaded.model.tokenizer.spec, m.tokenizer.spec);
      assert.equal(loaded.schedule.kind, 'cosine');
      assert.equal(loaded.schedule.steps, 100);
      assert.deepEqual(loaded.file.about, { note: 'test' });
      assert.deepEqual(loaded.model.params.names, m.params.names);
      const want = await m.params.values();
      const have = await loaded.model.params.values();
      for (const [n, v] of want) assert.deepEqual(have.get(n), v, `parameter ${n}`);
      const captions = ['a red apple', ''];
      const a = predict(m, captions, [10, 600]);
      const b = predict(loaded.model, captions, [10, 600]);
      assert.ok(a.data.some((x) => x !== 0));
      assert.deepEqual(b.data, a.data);
    } finally {
      loaded.model.params.dispose();
    }
  } finally {
    m.params.dispose();
  }
});

test('a float16 model file is half the size and predicts as the float32 model to within float16 rounding', async () => {
  const m = TextToImageModel.create(tinyConfig(), tokenizer(), 5);
  const dir = join(tmp, 'half');
  try {
    perturb(m, 321);
    const file = await saveModel(dir, m, { kind: 'scaled-linear', steps: 1000 }, {}, m.params, 'float16');
    assert.ok(file.weightsManifest.weights.every((w) => w.dtype === 'float16'));
    assert.equal(readFileSync(join(dir, 'weights.bin')).length, 2 * m.params.size);
    const loaded = loadModel(dir);
    try {
      const want = await m.params.values();
      const have = await loaded.model.params.values();
      for (const [n, v] of want) {
        const h = have.get(n) as Float32Array;
        for (let i = 0; i < v.length; i++) assert.ok(Math.abs((h[i] as number) - (v[i] as number)) <= Math.abs(v[i] as number) * 2 ** -11 + 2 ** -25, `${n}[${i}]`);
      }
      const a = predict(m, ['a red apple'], [600]);
      const b = predict(loaded.model, ['a red apple'], [600]);
      const maxDiff = a.data.reduce((d, x, i) => Math.max(d, Math.abs(x - (b.data[i] as number))), 0);
      assert.ok(maxDiff > 0 && maxDiff < 1e-2, `float16 changed the prediction by ${maxDiff}`);
    } finally {
      loaded.model.params.dispose();
    }
  } finally {
    m.params.dispose();
  }
});

test('a flipped byte in weights.bin makes loadModel throw an error naming weights.bin', async () => {
  const dir = join(tmp, 'corrupt');
  await saveModel(dir, model, { kind: 'scaled-linear', steps: 1000 }, {});
  assert.doesNotThrow(() => loadModel(dir).model.params.dispose());
  const path = join(dir, 'weights.bin');
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x01;
  writeFileSync(path, bytes);
  const before = tf.memory().numTensors;
  assert.throws(
    () => loadModel(dir),
    (err: unknown) => err instanceof Error && /weights\.bin/.test(err.message) && /sha256/.test(err.message),
  );
  assert.equal(tf.memory().numTensors, before, 'a refused file leaves no tensors behind');
  assert.throws(() => loadModel(join(tmp, 'no-such-model')), /model\.json not found/);
});

test('weights that lack a parameter or give it another shape are refused, naming weights.bin and the parameter', async () => {
  const dir = join(tmp, 'edited');
  await saveModel(dir, model, { kind: 'scaled-linear', steps: 1000 }, {});
  const jsonPath = join(dir, 'model.json');
  const binPath = join(dir, 'weights.bin');
  const original = JSON.parse(readFileSync(jsonPath, 'utf8')) as { weightsManifest: { sha256: string; weights: Array<{ name: string; shape: number[] }> } };
  const bytes = readFileSync(binPath);

  // Drop the last parameter from the manifest and the file, with a consistent hash.
  const dropped = original.weightsManifest.weights.at(-1) as { name: string; shape: number[] };
  const droppedBytes = 4 * dropped.shape.reduce((a, b) => a * b, 1);
  const shorter = bytes.subarray(0, bytes.length - droppedBytes);
  const lacking = structuredClone(original);
  lacking.weightsManifest.weights.pop();
  lacking.weightsManifest.sha256 = createHash('sha256').update(shorter).digest('hex');
  writeFileSync(binPath, shorter);
  writeFileSync(jsonPath, JSON.stringify(lacking));
  const before = tf.memory().numTensors;
  assert.throws(
    () => loadModel(dir),
    (err: unknown) => err instanceof Error && err.message.includes('weights.bin') && /missing 1 parameter/.test(err.message) && err.message.includes(dropped.name),
  );
  assert.equal(tf.memory().numTensors, before, 'the half-built model is disposed');

  // Same bytes, but one 2-D parameter's shape transposed in the manifest.
  const reshaped = structuredClone(original);
  const entry = reshaped.weightsManifest.weights.find((w) => w.shape.length === 2 && w.shape[0] !== w.shape[1]);
  assert.ok(entry, 'the tiny model has a non-square 2-D parameter');
  entry.shape = [entry.shape[1] as number, entry.shape[0] as number];
  writeFileSync(binPath, bytes);
  writeFileSync(jsonPath, JSON.stringify(reshaped));
  assert.throws(
    () => loadModel(dir),
    (err: unknown) => err instanceof Error && err.message.includes('weights.bin') && err.message.includes(`parameter ${entry.name}: shape`),
  );

  // Restored, it loads again.
  writeFileSync(jsonPath, JSON.stringify(original));
  loadModel(dir).model.params.dispose();
});

test("a 'v' model's eps is sqrt(1 - alphaBar)·xt + sqrt(alphaBar)·v: a fresh one (v = 0) passes xt through, scaled", () => {
  const m = TextToImageModel.create({ ...tinyConfig(), prediction: 'v' }, tokenizer(), 3);
  try {
    const t = [0, 500, 999];
    tf.tidy(() => {
      const xt = noisyImages(3, 32, 9);
      const eps = m.predictEps(xt, t, m.encode(['a red apple', '', 'red car']), SCHEDULE).arraySync() as number[][][][];
      const x = xt.arraySync() as number[][][][];
      t.forEach((ti, b) => {
        const k = Math.sqrt(1 - (SCHEDULE.alphaBar[ti] as number));
        for (const [y, xx, c] of [
          [0, 0, 0],
          [5, 17, 2],
          [31, 31, 1],
        ] as const) {
          const want = k * (x[b]![y]![xx]![c] as number);
          assert.ok(Math.abs((eps[b]![y]![xx]![c] as number) - want) < 1e-5, `t=${ti}: ${eps[b]![y]![xx]![c]} vs ${want}`);
        }
      });
    });
  } finally {
    m.params.dispose();
  }
});
