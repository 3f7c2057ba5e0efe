import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeSchedule, SCHEDULE_KINDS, type NoiseSchedule, type ScheduleKind } from '../../src/diffusion/schedule.js';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs expected ${expected} (tol ${tol})`);
}

/** Relative closeness, for products that shrink towards zero. */
function relClose(actual: number, expected: number, rtol: number, what: string): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  assert.ok(Math.abs(actual - expected) / scale <= rtol, `${what}: ${actual} vs expected ${expected} (rtol ${rtol})`);
}

/** alphas and alphaBar recomputed from the betas with plain loops. */
function checkProducts(s: NoiseSchedule): void {
  assert.equal(s.betas.length, s.steps);
  assert.equal(s.alphas.length, s.steps);
  assert.equal(s.alphaBar.length, s.steps);
  let prod = 1;
  for (let t = 0; t < s.steps; t++) {
    const beta = s.betas[t] as number;
    close(s.alphas[t] as number, 1 - beta, 1e-15, `${s.kind} alpha[${t}]`);
    prod *= 1 - beta;
    relClose(s.alphaBar[t] as number, prod, 1e-12, `${s.kind} alphaBar[${t}]`);
  }
}

test('scaled-linear: beta_0 = 0.00085, beta_999 = 0.012, the middle from sqrt-linspace squared', () => {
  const s = makeSchedule('scaled-linear', 1000);
  assert.equal(s.kind, 'scaled-linear');
  assert.equal(s.steps, 1000);
  close(s.betas[0] as number, 0.00085, 1e-15, 'beta_0');
  close(s.betas[999] as number, 0.012, 1e-15, 'beta_999');
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  for (const i of [1, 250, 500, 998]) {
    const expected = (a + ((b - a) * i) / 999) ** 2;
    close(s.betas[i] as number, expected, 1e-15, `beta_${i}`);
  }
  // Not a plain linspace: the middle beta is below the arithmetic mean of the ends.
  assert.ok((s.betas[500] as number) < (0.00085 + 0.012) / 2 - 1e-4);
  close(s.alphaBar[0] as number, 0.99915, 1e-15, 'alphaBar_0');
  close(s.alphaBar[1] as number, 0.99915 * (1 - (a + (b - a) / 999) ** 2), 1e-15, 'alphaBar_1');
  // Stable Diffusion's terminal alphaBar is about 0.00466 (terminal SNR 0.0047, Lin et al. 2024).
  assert.ok((s.alphaBar[999] as number) > 0.0046 && (s.alphaBar[999] as number) < 0.0047, `alphaBar_999 ${s.alphaBar[999]}`);
  checkProducts(s);
});

test('scaled-linear with 3 steps: middle beta by hand', () => {
  const s = makeSchedule('scaled-linear', 3);
  // ((sqrt(0.00085) + sqrt(0.012)) / 2)^2 = (0.01285 + 2·sqrt(1.02e-5)) / 4 = 0.00480937195...
  close(s.betas[1] as number, 0.00480937195, 1e-11, 'beta_1 of 3');
  close(s.alphaBar[2] as number, 0.99915 * (1 - 0.00480937195) * (1 - 0.012), 1e-11, 'alphaBar_2 of 3');
});

test('linear: 1e-4 .. 0.02 evenly spaced', () => {
  const s = makeSchedule('linear', 1000);
  close(s.betas[0] as number, 1e-4, 1e-17, 'beta_0');
  close(s.betas[999] as number, 0.02, 1e-15, 'beta_999');
  for (let i = 0; i < 1000; i++) close(s.betas[i] as number, 1e-4 + (i * (0.02 - 1e-4)) / 999, 1e-15, `beta_${i}`);
  close((s.betas[1] as number) - (s.betas[0] as number), 0.0199 / 999, 1e-15, 'step');
  // DDPM's linear schedule ends near alphaBar = 4.04e-5.
  assert.ok((s.alphaBar[999] as number) > 4.0e-5 && (s.alphaBar[999] as number) < 4.1e-5, `alphaBar_999 ${s.alphaBar[999]}`);
  checkProducts(s);
});

test('cosine: alphaBar[t] = f(t+1)/f(0) where betas are unclipped; only the last beta is clipped at 0.999', () => {
  const T = 1000;
  const sOff = 0.008;
  const f = (t: number): number => Math.cos(((t / T + sOff) / (1 + sOff)) * (Math.PI / 2)) ** 2;
  const s = makeSchedule('cosine', T);
  const clipped: number[] = [];
  for (let i = 0; i < T; i++) {
    const beta = s.betas[i] as number;
    assert.ok(beta > 0 && beta <= 0.999, `beta_${i} = ${beta} outside (0, 0.999]`);
    if (beta === 0.999) clipped.push(i);
  }
  assert.deepEqual(clipped, [T - 1], 'the telescoping product holds everywhere but the last step');
  // Telescoping: prod_{i<=t} f(i+1)/f(i) = f(t+1)/f(0).
  for (let t = 0; t < T - 1; t++) relClose(s.alphaBar[t] as number, f(t + 1) / f(0), 1e-9, `alphaBar_${t}`);
  // The last one is alphaBar_998 · (1 - 0.999).
  relClose(s.alphaBar[T - 1] as number, (f(T - 1) / f(0)) * 0.001, 1e-9, 'alphaBar_999');
  // First beta from the formula by hand-sized numbers: f(0) = cos(0.008/1.008·π/2)^2.
  relClose(s.betas[0] as number, 1 - f(1) / f(0), 1e-12, 'beta_0');
  assert.ok((s.betas[0] as number) < 1e-4, 'the cosine schedule starts with a tiny beta');
  checkProducts(s);
});

test('alphaBar decreases strictly from near 1 for every kind', () => {
  for (const kind of SCHEDULE_KINDS) {
    const s = makeSchedule(kind, 1000);
    assert.ok((s.alphaBar[0] as number) > 0.999 && (s.alphaBar[0] as number) < 1, `${kind} alphaBar_0 ${s.alphaBar[0]}`);
    for (let t = 1; t < s.steps; t++) {
      assert.ok((s.alphaBar[t] as number) < (s.alphaBar[t - 1] as number), `${kind}: alphaBar[${t}] >= alphaBar[${t - 1}]`);
    }
    assert.ok((s.alphaBar[s.steps - 1] as number) < 0.01, `${kind} ends noisy`);
  }
});

test('defaults are scaled-linear with 1000 steps', () => {
  const s = makeSchedule();
  assert.equal(s.kind, 'scaled-linear');
  assert.equal(s.steps, 1000);
});

test('an unknown kind or a bad step count is rejected with a clear message', () => {
  assert.throws(() => makeSchedule('quadratic' as ScheduleKind, 10), /unknown schedule "quadratic" \(known: scaled-linear, linear, cosine\)/);
  for (const steps of [1, 0, -5, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => makeSchedule('linear', steps), /schedule steps must be an integer >= 2, got/, `steps ${steps}`);
  }
  assert.doesNotThrow(() => makeSchedule('cosine', 2));
});
