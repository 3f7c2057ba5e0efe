import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { seededNormal } from '../../src/diffusion/gaussian.js';
import { ddimSample, ddimTimesteps, ddpmSample, dpmSolverSample, type EpsFn } from '../../src/diffusion/samplers.js';
import { makeSchedule, type NoiseSchedule } from '../../src/diffusion/schedule.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const IMAGE: [number, number, number] = [2, 2, 1];
const PER = 4;

/** A fixed x0 for B images, inside (-1, 1) so clipping the predicted x0 changes nothing. */
function knownX0(B: number): Float32Array {
  return Float32Array.from({ length: B * PER }, (_, i) => 0.9 * Math.sin(1.7 * i + 0.3));
}

/** The perfect noise predictor for a known x0: eps = (xt - sqrt(aBar_t)·x0) / sqrt(1 - aBar_t). */
function oracle(schedule: NoiseSchedule, x0: tf.Tensor4D): EpsFn {
  return (xt, t) => {
    const aBar = schedule.alphaBar[t] as number;
    return tf.div(tf.sub(xt, tf.mul(x0, Math.sqrt(aBar))), Math.sqrt(1 - aBar)) as tf.Tensor4D;
  };
}

/** An imperfect, per-example (elementwise) predictor, so the result depends on the starting noise. */
const shrinking: EpsFn = (xt, t) => tf.mul(tf.tanh(xt), 0.5 + t / 4000) as tf.Tensor4D;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function run(sample: () => tf.Tensor4D): Float32Array {
  const out = sample();
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return Float32Array.from(data);
}

test('ddimTimesteps: trailing spacing from the last timestep', () => {
  assert.deepEqual(ddimTimesteps(1000, 4), [999, 749, 499, 249]);
  assert.deepEqual(ddimTimesteps(1000, 1), [999]);
  // 10 - k·10/3 rounded, minus 1: 9, round(6.67)-1 = 6, round(3.33)-1 = 2.
  assert.deepEqual(ddimTimesteps(10, 3), [9, 6, 2]);
  assert.deepEqual(ddimTimesteps(5, 5), [4, 3, 2, 1, 0]);
  for (const bad of [0, 1001, 2.5, -1, Number.NaN]) {
    assert.throws(() => ddimTimesteps(1000, bad), /DDIM steps must be an integer in \[1, 1000\]/, `steps ${bad}`);
  }
});

test('DDIM (eta 0) with the oracle eps returns the known x0', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const seeds = [11, 12];
  const x0v = knownX0(seeds.length);
  const x0 = tf.tensor4d(x0v, [seeds.length, ...IMAGE]);
  for (const steps of [1, 4, 25]) {
    const calls: Array<[number, number]> = [];
    const ts: number[] = [];
    const eps: EpsFn = (xt, t) => {
      ts.push(t);
      return oracle(schedule, x0)(xt, t);
    };
    const got = run(() => ddimSample(schedule, eps, { seeds, imageShape: IMAGE, steps, eta: 0, onStep: (i, n) => calls.push([i, n]) }));
    assert.ok(maxAbsDiff(got, x0v) < 1e-4, `steps ${steps}: max error ${maxAbsDiff(got, x0v)}`);
    assert.deepEqual(ts, ddimTimesteps(1000, steps), 'the network is asked at each DDIM timestep once');
    assert.deepEqual(
      calls,
      Array.from({ length: steps }, (_, i) => [i + 1, steps]),
    );
  }
  // Without clipping too (the oracle's x0 is inside [-1, 1] anyway).
  const noClip = run(() => ddimSample(schedule, oracle(schedule, x0), { seeds, imageShape: IMAGE, steps: 4, clipX0: false }));
  assert.ok(maxAbsDiff(noClip, x0v) < 1e-4, `no clip: max error ${maxAbsDiff(noClip, x0v)}`);
  x0.dispose();
});

test('DDPM with the oracle eps returns the known x0 (its last step has c0 = 1, ct = 0)', () => {
  const schedule = makeSchedule('linear', 100);
  const seeds = [3, 4];
  const x0v = knownX0(seeds.length);
  const x0 = tf.tensor4d(x0v, [seeds.length, ...IMAGE]);
  let steps = 0;
  const got = run(() => ddpmSample(schedule, oracle(schedule, x0), { seeds, imageShape: IMAGE, onStep: () => steps++ }));
  assert.equal(steps, 100);
  assert.ok(maxAbsDiff(got, x0v) < 1e-4, `max error ${maxAbsDiff(got, x0v)}`);
  x0.dispose();
});

test('DDIM with eta 1 still returns x0 with the oracle (the noise only moves xt along the path)', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const seeds = [8];
  const x0v = knownX0(1);
  const x0 = tf.tensor4d(x0v, [1, ...IMAGE]);
  const got = run(() => ddimSample(schedule, oracle(schedule, x0), { seeds, imageShape: IMAGE, steps: 10, eta: 1 }));
  assert.ok(maxAbsDiff(got, x0v) < 1e-4, `max error ${maxAbsDiff(got, x0v)}`);
  x0.dispose();
});

test('DDIM with one step and an imperfect eps gives the hand formula x0 = (xT - sqrt(1-aBar)·eps)/sqrt(aBar)', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const seeds = [21];
  const xT = seededNormal(seeds, PER, 'start');
  const aBar = schedule.alphaBar[999] as number;
  // eps = 0 makes the predicted x0 = xT / sqrt(aBar), far outside [-1, 1]: clipped to the sign of xT.
  const zero: EpsFn = (xt) => tf.zerosLike(xt);
  const clipped = run(() => ddimSample(schedule, zero, { seeds, imageShape: IMAGE, steps: 1 }));
  assert.deepEqual(
    Array.from(clipped),
    Array.from(xT, (v) => Math.sign(v)),
  );
  const unclipped = run(() => ddimSample(schedule, zero, { seeds, imageShape: IMAGE, steps: 1, clipX0: false }));
  const expected = Array.from(xT, (v) => v / Math.sqrt(aBar));
  assert.ok(maxAbsDiff(unclipped, expected) < 1e-4 * Math.max(...expected.map(Math.abs)), `unclipped ${Array.from(unclipped)} vs ${expected}`);
});

/**
 * A 2-step schedule with big steps: betas [0.5, 0.75], alphas [0.5, 0.25], alphaBar [0.5, 0.125].
 * Big steps make every coefficient of the update visible (with alpha near 1, sqrt(alpha) and
 * alpha would be indistinguishable).
 */
function twoStepSchedule(): NoiseSchedule {
  return { kind: 'linear', steps: 2, betas: Float64Array.of(0.5, 0.75), alphas: Float64Array.of(0.5, 0.25), alphaBar: Float64Array.of(0.5, 0.125) };
}

/** Least-squares slope through the origin and residual std of y ≈ K·x. */
function fitThroughOrigin(x: Float32Array, y: Float32Array): { slope: number; residualStd: number } {
  let xy = 0;
  let xx = 0;
  for (let i = 0; i < x.length; i++) {
    xy += (x[i] as number) * (y[i] as number);
    xx += (x[i] as number) ** 2;
  }
  const slope = xy / xx;
  let rr = 0;
  for (let i = 0; i < x.length; i++) rr += ((y[i] as number) - slope * (x[i] as number)) ** 2;
  return { slope, residualStd: Math.sqrt(rr / x.length) };
}

test('one stochastic step: x_prev = K·x_t + sigma·z with K and sigma from the DDPM / DDIM formulas', () => {
  const s = twoStepSchedule();
  const a = 0.5; // eps(x) = a·x, a known linear predictor
  const [aBar1, aBar0, beta1, alpha1] = [0.125, 0.5, 0.75, 0.25];
  // x0 from xt and eps (Eq. 15 of DDPM rearranged), per unit of xt.
  const x0PerX = (1 - Math.sqrt(1 - aBar1) * a) / Math.sqrt(aBar1);
  // DDPM posterior (Eqs. 6-7): mean c0·x0 + ct·xt, variance beta·(1 - aBar_prev)/(1 - aBar_t).
  const c0 = (beta1 * Math.sqrt(aBar0)) / (1 - aBar1);
  const ct = ((1 - aBar0) * Math.sqrt(alpha1)) / (1 - aBar1);
  const ddpm = { K: c0 * x0PerX + ct, sigma: Math.sqrt((beta1 * (1 - aBar0)) / (1 - aBar1)) };
  // DDIM eta = 1 (Eq. 12 and 16 of Song et al.).
  const sigma = Math.sqrt((1 - aBar0) / (1 - aBar1)) * Math.sqrt(1 - aBar1 / aBar0);
  const ddim = { K: Math.sqrt(aBar0) * x0PerX + Math.sqrt(1 - aBar0 - sigma * sigma) * a, sigma };
  // Hand check of the numbers above: c0 = 0.75·0.7071/0.875, ct = 0.5·0.5/0.875, sigma² = 0.375/0.875.
  assert.ok(Math.abs(c0 - 0.6060915) < 1e-6 && Math.abs(ct - 0.2857143) < 1e-6 && Math.abs(ddpm.sigma ** 2 - 0.4285714) < 1e-6);
  const seeds = [31, 32, 33];
  const shape: [number, number, number] = [16, 16, 3];
  const cases: Array<[string, { K: number; sigma: number }, (eps: EpsFn) => tf.Tensor4D]> = [
    ['ddpm', ddpm, (eps) => ddpmSample(s, eps, { seeds, imageShape: shape, clipX0: false })],
    ['ddim eta 1', ddim, (eps) => ddimSample(s, eps, { seeds, imageShape: shape, steps: 2, eta: 1, clipX0: false })],
  ];
  for (const [name, want, sample] of cases) {
    const inputs: Array<[number, Float32Array]> = [];
    const eps: EpsFn = (xt, t) => {
      inputs.push([t, Float32Array.from(xt.dataSync())]);
      return tf.mul(xt, a) as tf.Tensor4D;
    };
    const out = run(() => sample(eps));
    assert.deepEqual(
      inputs.map(([t]) => t),
      [1, 0],
      `${name}: timesteps visited`,
    );
    const [, xT] = inputs[0] as [number, Float32Array];
    const [, xPrev] = inputs[1] as [number, Float32Array];
    const rms = Math.sqrt(xT.reduce((acc, x) => acc + x * x, 0) / xT.length);
    assert.ok(rms > 0.9 && rms < 1.1, `${name}: start noise rms ${rms}`);
    // ~2300 pixels: the slope's standard error is about sigma/48 ≈ 0.014.
    const fit = fitThroughOrigin(xT, xPrev);
    assert.ok(Math.abs(fit.slope - want.K) < 0.05, `${name}: slope ${fit.slope} vs K ${want.K}`);
    assert.ok(Math.abs(fit.residualStd - want.sigma) < 0.04, `${name}: noise std ${fit.residualStd} vs sigma ${want.sigma}`);
    // The last step (t = 0, alphaBar_prev = 1) returns the predicted x0 with no noise.
    const last = Array.from(xPrev, (x) => (x - Math.sqrt(1 - aBar0) * a * x) / Math.sqrt(aBar0));
    assert.ok(maxAbsDiff(out, last) < 1e-4, `${name}: last step`);
  }
});

test('DPM-Solver++(2M) with the oracle eps returns the known x0, asking the network once per DDIM timestep', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const seeds = [11, 12];
  const x0v = knownX0(seeds.length);
  const x0 = tf.tensor4d(x0v, [seeds.length, ...IMAGE]);
  for (const steps of [1, 2, 5, 25]) {
    const ts: number[] = [];
    const calls: number[] = [];
    const eps: EpsFn = (xt, t) => {
      ts.push(t);
      return oracle(schedule, x0)(xt, t);
    };
    const got = run(() => dpmSolverSample(schedule, eps, { seeds, imageShape: IMAGE, steps, onStep: (i) => calls.push(i) }));
    assert.ok(maxAbsDiff(got, x0v) < 1e-4, `steps ${steps}: max error ${maxAbsDiff(got, x0v)}`);
    assert.deepEqual(ts, ddimTimesteps(1000, steps));
    assert.deepEqual(
      calls,
      Array.from({ length: steps }, (_, i) => i + 1),
    );
  }
  x0.dispose();
});

test('DPM-Solver++(2M): three steps of eps = 0.4·x worked by hand', () => {
  // T = 10, linear betas 1e-4..0.02 (makeSchedule's linear): timesteps 9, 6, 2 (ddimTimesteps(10, 3)).
  const schedule = makeSchedule('linear', 10);
  const k = 0.4;
  const eps: EpsFn = (xt) => tf.mul(xt, k) as tf.Tensor4D;
  const seeds = [3];
  const xT = seededNormal(seeds, PER, 'start');
  // Per pixel the update is linear in x: x0 = x·(1 - sigma·k)/alpha. Written out step by step.
  const a = (t: number): number => Math.sqrt(schedule.alphaBar[t] as number);
  const sg = (t: number): number => Math.sqrt(1 - (schedule.alphaBar[t] as number));
  const lam = (t: number): number => Math.log(a(t) / sg(t));
  const want = Array.from(xT, (x9) => {
    const d9 = (x9 * (1 - sg(9) * k)) / a(9); // first step: D = x0(9)
    const h1 = lam(6) - lam(9);
    const x6 = (sg(6) / sg(9)) * x9 - a(6) * (Math.exp(-h1) - 1) * d9;
    const d6 = (x6 * (1 - sg(6) * k)) / a(6);
    const h2 = lam(2) - lam(6);
    const r = h1 / h2;
    const D = (1 + 1 / (2 * r)) * d6 - (1 / (2 * r)) * d9; // second order from the two x0s
    const x2 = (sg(2) / sg(6)) * x6 - a(2) * (Math.exp(-h2) - 1) * D;
    return (x2 * (1 - sg(2) * k)) / a(2); // last step: the x0 of the last evaluation
  });
  const got = run(() => dpmSolverSample(schedule, eps, { seeds, imageShape: IMAGE, steps: 3, clipX0: false }));
  assert.ok(maxAbsDiff(got, want) < 1e-5, `max error ${maxAbsDiff(got, want)}`);
});

test('DPM-Solver++(2M) solves the ODE of Gaussian data at second order or better, and 8 of its steps beat 16 of DDIM', (t) => {
  // Data N(0, s²) per pixel: the ideal eps is x·sigma/(alpha²s² + sigma²), and the
  // probability-flow ODE keeps x/sqrt(alpha²s² + sigma²) constant along a path. Both samplers
  // end with the x0 prediction at their last timestep L, so the exact answer is the ODE's x at
  // L pushed through that prediction, x0 = x_L·alpha_L·s²/(alpha_L²s² + sigma_L²).
  const schedule = makeSchedule('scaled-linear', 1000);
  const s2 = 0.25;
  const a2 = (t: number): number => schedule.alphaBar[t] as number;
  const spread = (t: number): number => Math.sqrt(a2(t) * s2 + 1 - a2(t));
  const ideal: EpsFn = (xt, t) => tf.mul(xt, Math.sqrt(1 - a2(t)) / (a2(t) * s2 + 1 - a2(t))) as tf.Tensor4D;
  const seeds = [1, 2, 3, 4];
  const xT = seededNormal(seeds, PER, 'start');
  const error = (steps: number, sample: typeof ddimSample): number => {
    const L = ddimTimesteps(1000, steps).at(-1) as number;
    const exact = Array.from(xT, (x) => ((x * spread(L)) / spread(999)) * ((Math.sqrt(a2(L)) * s2) / spread(L) ** 2));
    return maxAbsDiff(
      run(() => sample(schedule, ideal, { seeds, imageShape: IMAGE, steps, clipX0: false })),
      exact,
    );
  };
  const dpm = [error(8, dpmSolverSample), error(16, dpmSolverSample)] as [number, number];
  const ddim = [error(8, ddimSample), error(16, ddimSample)] as [number, number];
  t.diagnostic(`max error at 8 and 16 steps: DPM-Solver++ ${dpm.map((e) => e.toExponential(2)).join(', ')}; DDIM ${ddim.map((e) => e.toExponential(2)).join(', ')}`);
  assert.ok(dpm[0] < ddim[0] / 3, `8 steps: DPM-Solver++ error ${dpm[0]} vs DDIM ${ddim[0]}`);
  assert.ok(dpm[0] / dpm[1] > 3, `DPM-Solver++ error 8 -> 16 steps: ${dpm[0]} -> ${dpm[1]} (second order: at least about 4x)`);
  assert.ok(dpm[0] < ddim[1], `DPM-Solver++ at 8 steps ${dpm[0]} vs DDIM at 16 ${ddim[1]}`);
});

test('the same seeds give identical outputs; different seeds differ', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const ddpmSchedule = makeSchedule('linear', 50);
  const samplers: Array<[string, (seeds: number[]) => Float32Array]> = [
    ['ddim eta 0', (seeds) => run(() => ddimSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5 }))],
    ['ddim eta 1', (seeds) => run(() => ddimSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5, eta: 1 }))],
    ['ddpm', (seeds) => run(() => ddpmSample(ddpmSchedule, shrinking, { seeds, imageShape: IMAGE }))],
    ['dpm++2m', (seeds) => run(() => dpmSolverSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5 }))],
  ];
  for (const [name, sample] of samplers) {
    const a = sample([1, 2]);
    const b = sample([1, 2]);
    assert.deepEqual(Array.from(a), Array.from(b), `${name}: same seeds, same images`);
    const c = sample([1, 9]);
    assert.deepEqual(Array.from(c.subarray(0, PER)), Array.from(a.subarray(0, PER)), `${name}: seed 1 unchanged`);
    assert.ok(maxAbsDiff(c.subarray(PER), a.subarray(PER)) > 1e-3, `${name}: seeds 2 and 9 must give different images`);
  }
});

test('an image depends only on its own seed, not on the batch it is drawn in', () => {
  const schedule = makeSchedule('scaled-linear', 1000);
  const ddpmSchedule = makeSchedule('linear', 50);
  const samplers: Array<[string, (seeds: number[]) => Float32Array]> = [
    ['ddim eta 0', (seeds) => run(() => ddimSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5 }))],
    ['ddim eta 0.7', (seeds) => run(() => ddimSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5, eta: 0.7 }))],
    ['ddpm', (seeds) => run(() => ddpmSample(ddpmSchedule, shrinking, { seeds, imageShape: IMAGE }))],
    ['dpm++2m', (seeds) => run(() => dpmSolverSample(schedule, shrinking, { seeds, imageShape: IMAGE, steps: 5 }))],
  ];
  for (const [name, sample] of samplers) {
    const alone = sample([5]);
    const batch = sample([3, 5, 7]);
    assert.deepEqual(Array.from(batch.subarray(PER, 2 * PER)), Array.from(alone), `${name}: seed 5 alone vs in [3,5,7]`);
    assert.ok(maxAbsDiff(batch.subarray(0, PER), alone) > 1e-3, `${name}: seed 3 differs from seed 5`);
    assert.ok(maxAbsDiff(batch.subarray(2 * PER), alone) > 1e-3, `${name}: seed 7 differs from seed 5`);
  }
});

test('samplers leak no tensors', () => {
  const schedule = makeSchedule('linear', 20);
  const before = tf.memory().numTensors;
  tf.dispose(ddimSample(schedule, shrinking, { seeds: [1, 2], imageShape: IMAGE, steps: 4, eta: 0.5 }));
  tf.dispose(ddpmSample(schedule, shrinking, { seeds: [1, 2], imageShape: IMAGE }));
  tf.dispose(dpmSolverSample(schedule, shrinking, { seeds: [1, 2], imageShape: IMAGE, steps: 4 }));
  assert.equal(tf.memory().numTensors, before);
});

test('seededNormal: mean ~0, std ~1, deterministic, and per-seed', () => {
  const n = 20000;
  const seeds = [1, 2, 3];
  const xs = seededNormal(seeds, n, 'k');
  assert.equal(xs.length, seeds.length * n);
  for (let b = 0; b < seeds.length; b++) {
    const part = xs.subarray(b * n, (b + 1) * n);
    let sum = 0;
    for (const v of part) sum += v;
    const mean = sum / n;
    let sq = 0;
    for (const v of part) sq += (v - mean) ** 2;
    const std = Math.sqrt(sq / n);
    assert.ok(Math.abs(mean) < 0.03, `seed ${seeds[b]}: mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 0.03, `seed ${seeds[b]}: std ${std}`);
    let within1 = 0;
    for (const v of part) if (Math.abs(v) < 1) within1++;
    assert.ok(Math.abs(within1 / n - 0.6827) < 0.02, `seed ${seeds[b]}: P(|z|<1) = ${within1 / n}`);
  }
  assert.deepEqual(seededNormal(seeds, 50, 'k'), seededNormal(seeds, 50, 'k'));
  // Image 1's draws do not depend on the other seeds in the batch.
  assert.deepEqual(seededNormal([2], 50, 'k'), seededNormal([7, 2, 9], 50, 'k').subarray(50, 100));
  // Different seeds or keys give different streams.
  assert.ok(maxAbsDiff(seededNormal([1], 50, 'k'), seededNormal([2], 50, 'k')) > 0.1);
  assert.ok(maxAbsDiff(seededNormal([1], 50, 'k'), seededNormal([1], 50, 'other')) > 0.1);
  assert.ok(maxAbsDiff(seededNormal([1], 50, 'k', 3), seededNormal([1], 50, 'k', 4)) > 0.1);
});
