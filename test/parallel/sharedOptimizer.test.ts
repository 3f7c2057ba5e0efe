import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { makeSchedule } from '../../src/diffusion/schedule.js';
import { TextToImageModel } from '../../src/model/textToImage.js';
import { denoisingGradients } from '../../src/parallel/denoisingGradients.js';
import { ModelPool, splitEvenly } from '../../src/parallel/modelPool.js';
import type { DenoisingJob } from '../../src/parallel/protocol.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { AdamW } from '../../src/optim/adamw.js';
import { Adafactor, ADAFACTOR_DEFAULTS } from '../../src/optim/adafactor.js';
import { updateEma } from '../../src/optim/ema.js';
import { adamWRange, emaRange, setNativeOptimizerLoops, sumRange } from '../../src/optim/flatAdamW.js';
import { loadNativeAddon } from '../../src/kernels/nativeAddon.js';
import { clipByGlobalNorm } from '../../src/optim/gradients.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('flat AdamW, EMA and the gradient sum by hand (the numbers of the AdamW test)', () => {
  const s = { w: Float32Array.from([1, -2, 3]), m: new Float32Array(3), v: new Float32Array(3), decay: Uint8Array.from([1, 1, 0]) };
  const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, step: 1, gradScale: 1 };
  adamWRange(s, Float32Array.from([0.5, -1, 2]), 0, 3, h);
  // Step 1: the update is sign(g); decay only on the first two (the "matrix").
  close(s.w[0] as number, 0.989);
  close(s.w[1] as number, -1.988);
  close(s.w[2] as number, 2.99);
  // A range leaves the rest alone; gradScale scales g before the moments.
  adamWRange(s, Float32Array.from([0, 0, -2]), 2, 3, { ...h, step: 2, gradScale: 0.5 });
  close(s.w[0] as number, 0.989);
  const g = -1; // -2 · 0.5
  const m = 0.9 * 0.2 + 0.1 * g;
  const v = 0.999 * 0.004 + 0.001 * g * g;
  close(s.w[2] as number, 2.99 - (0.01 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8), 1e-6);
  const ema = Float32Array.from([0, 0]);
  emaRange(ema, Float32Array.from([1, 1]), 0, 2, 0.999, 0); // d = min(0.999, 1/10)
  close(ema[0] as number, 0.9);
  const parts = [Float32Array.from([1, 2]), Float32Array.from([3, 4]), Float32Array.from([5, 6])];
  close(sumRange(parts, 1, 2), 144);
  assert.deepEqual(Array.from(parts[0] as Float32Array), [1, 12]);
});

test(
  'the native optimizer loops equal the JS loops bit for bit',
  { skip: typeof loadNativeAddon() === 'string' && process.env['SELFDPO_REQUIRE_NATIVE'] !== '1' ? 'native addon unavailable' : false },
  (t) => {
    t.after(() => setNativeOptimizerLoops(true));
    const n = 10007;
    let seed = 7;
    const rand = (scale: number): Float32Array =>
      Float32Array.from({ length: n }, () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return scale * (seed / 2 ** 31 - 1);
      });
    const w0 = rand(1),
      m0 = rand(0.1),
      v0 = rand(0.01).map(Math.abs),
      g = rand(3),
      ema0 = rand(1);
    const decay = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const parts0 = [rand(1), rand(1), rand(1)];
    const run = (native: boolean): (Float32Array | Float64Array)[] => {
      setNativeOptimizerLoops(native);
      const s = { w: w0.slice(), m: m0.slice(), v: v0.slice(), decay };
      const hyper = { lr: 3e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: 7, gradScale: 0.37 };
      adamWRange(s, g, 13, n - 5, hyper);
      const ema = ema0.slice();
      emaRange(ema, s.w, 3, n, 0.999, 40);
      const two = [parts0[0]!.slice(), parts0[1]!.slice()];
      const three = parts0.map((p) => p.slice());
      const squares = Float64Array.from([sumRange(two, 1, n - 1), sumRange(three, 0, n)]);
      return [s.w, s.m, s.v, ema, two[0]!, three[0]!, squares];
    };
    const js = run(false);
    const native = run(true);
    const names = ['w', 'm', 'v', 'ema', '2-part sum', '3-part sum', 'squares'];
    js.forEach((a, i) => {
      const b = native[i] as Float32Array | Float64Array;
      const differ = a.findIndex((x: number, k: number) => !Object.is(x, b[k]));
      assert.equal(differ, -1, `${names[i]} differs at ${differ}: JS ${a[differ]}, native ${b[differ]}`);
    });
    // Untouched ends stay untouched.
    assert.equal(native[0]![0], w0[0]);
    assert.equal(native[0]![n - 1], w0[n - 1]);
  },
);

/** A smoke-sized model config and tokenizer, the schedule, and deterministic 4-image batches of 32x32. */
async function toyWorld(): Promise<{
  config: ReturnType<typeof resolvePretrainConfig>['model'];
  tokenizer: Tokenizer;
  schedule: ReturnType<typeof makeSchedule>;
  n: number;
  per: number;
  rand: (seed: number) => Float32Array;
}> {
  await initBackend({ backend: 'wasm', quiet: true });
  const config = resolvePretrainConfig(SMOKE_OVERRIDE).model;
  const n = 4;
  const per = 32 * 32 * 3;
  return {
    config,
    tokenizer: Tokenizer.fromCaptions(['red blue square'], { maxLength: config.maxWords }),
    schedule: makeSchedule('scaled-linear', 1000),
    n,
    per,
    rand: (seed) => Float32Array.from({ length: n * per }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.9),
  };
}

test('trainStep over 1 and 2 threads equals tfjs gradients + clipping + AdamW + EMA, and its state round-trips', async () => {
  const { config, tokenizer, schedule, n, per, rand } = await toyWorld();
  const job: DenoisingJob = { kind: 'denoising', x0: rand(1), eps: rand(2), t: [10, 300, 600, 900], captions: ['red square', 'blue', '', 'square'], weight: 1 / n, microBatch: 2 };
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
  const hyper = { lr: 1e-3, clipNorm: 0.05, emaDecay: 0.9 };

  // The reference: tfjs gradients, clipByGlobalNorm, AdamW, updateEma, two steps.
  const ref = TextToImageModel.create(config, tokenizer, 5);
  const refEma = ref.params.clone(false);
  const opt = new AdamW(ref.params.variables, adam);
  const norms: number[] = [];
  for (let step = 0; step < 2; step++) {
    const { grads } = denoisingGradients(ref, schedule, ref.params.variables, job);
    const clipped = clipByGlobalNorm(grads, hyper.clipNorm);
    norms.push(clipped.norm);
    opt.apply(clipped.grads, hyper.lr);
    tf.dispose(clipped.grads);
    updateEma(refEma.variables, ref.params.variables, hyper.emaDecay, step);
  }
  assert.ok((norms[0] as number) > hyper.clipNorm, 'the clip is active');
  const want = await ref.params.values();
  const wantEma = await refEma.values();

  for (const threads of [1, 2]) {
    const model = TextToImageModel.create(config, tokenizer, 5);
    const pool = await ModelPool.start(model, schedule, model.params.names, threads, 'wasm', undefined, { kind: 'shared-adamw', adam, ema: true });
    try {
      const per4 = (a: Float32Array, s: number, e: number): Float32Array => a.slice(s * per, e * per);
      const jobs = splitEvenly(n, threads).map(([s, e]) => ({ ...job, x0: per4(job.x0, s, e), eps: per4(job.eps, s, e), t: job.t.slice(s, e), captions: job.captions.slice(s, e) }));
      for (let step = 0; step < 2; step++) {
        const r = await pool.trainStep(model, schedule, jobs, undefined, hyper);
        close(r.gradNorm, norms[step] as number, 1e-4 * (norms[step] as number));
      }
      const got = await model.params.values();
      const state = pool.optimizerState();
      let worst = 0;
      for (const [name, w] of want) {
        const g = got.get(name) as Float32Array;
        const e = (state['ema'] as Map<string, { data: Float32Array }>).get(name)?.data as Float32Array;
        const we = wantEma.get(name) as Float32Array;
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((w[i] as number) - (g[i] as number)), Math.abs((we[i] as number) - (e[i] as number)));
      }
      // Two AdamW steps move a weight by up to 2·lr; the two routes agree far closer.
      assert.ok(worst < 2e-5, `${threads} thread(s): weights differ by ${worst}`);
      // Loading a state into the shared views and pulling it sets the main thread's variables.
      const weights = (state['weights'] as Map<string, { data: Float32Array }>).get('unet/out/b')?.data as Float32Array;
      weights.fill(7);
      pool.pullWeights();
      assert.ok(Array.from(model.params.variable('unet/out/b').dataSync()).every((x) => x === 7));
    } finally {
      await pool.stop();
      model.params.dispose();
    }
  }
  opt.dispose();
  ref.params.dispose();
  refEma.dispose();
});

test('a main-thread pool (Adafactor) steps over 1 and 2 threads as tfjs gradients + clipping + Adafactor do, and counts its steps', async () => {
  const { config, tokenizer, schedule, n, per, rand } = await toyWorld();
  const job: DenoisingJob = { kind: 'denoising', x0: rand(3), eps: rand(4), t: [20, 200, 500, 950], captions: ['blue square', 'red', 'square', ''], weight: 1 / n, microBatch: 4 };
  const hyper = { lr: 1e-3, clipNorm: 0.05 };

  const ref = TextToImageModel.create(config, tokenizer, 6);
  const opt = new Adafactor(ref.params.variables, ADAFACTOR_DEFAULTS);
  for (let step = 0; step < 2; step++) {
    const { grads } = denoisingGradients(ref, schedule, ref.params.variables, job);
    const clipped = clipByGlobalNorm(grads, hyper.clipNorm);
    opt.apply(clipped.grads, hyper.lr);
    tf.dispose([...grads, ...clipped.grads]);
  }
  const want = await ref.params.values();

  for (const threads of [1, 2]) {
    const model = TextToImageModel.create(config, tokenizer, 6);
    const pool = await ModelPool.start(model, schedule, model.params.names, threads, 'wasm', undefined, { kind: 'main-thread', create: (v) => new Adafactor(v, ADAFACTOR_DEFAULTS) });
    try {
      const part = (a: Float32Array, s: number, e: number): Float32Array => a.slice(s * per, e * per);
      const jobs = splitEvenly(n, threads).map(([s, e]) => ({ ...job, x0: part(job.x0, s, e), eps: part(job.eps, s, e), t: job.t.slice(s, e), captions: job.captions.slice(s, e) }));
      for (let step = 0; step < 2; step++) await pool.trainStep(model, schedule, jobs, undefined, hyper);
      assert.equal(pool.optimizerStep, 2);
      const got = await model.params.values();
      let worst = 0;
      for (const [name, w] of want) {
        const g = got.get(name) as Float32Array;
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((w[i] as number) - (g[i] as number)));
      }
      // Two Adafactor steps move a weight by up to 2·lr (its updates are RMS-clipped to 1).
      assert.ok(worst < 2e-5, `${threads} thread(s): weights differ by ${worst}`);
      // Its state groups are the weights and Adafactor's factored moments, keyed by parameter name.
      const state = pool.optimizerState();
      assert.deepEqual(Object.keys(state).sort(), ['adafactorCol', 'adafactorRow', 'adafactorV', 'weights']);
      assert.equal((state['weights'] as Map<string, unknown>).size, model.params.names.length);
    } finally {
      await pool.stop();
      model.params.dispose();
    }
  }
  opt.dispose();
  ref.params.dispose();
});
