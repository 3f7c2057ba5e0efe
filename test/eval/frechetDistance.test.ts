import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frechetDistance, gaussian, jacobiEigen } from '../../src/eval/frechetDistance.js';
import { Rng } from '../../src/util/rng.js';

const close = (a: number, b: number, tol: number): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** n rows of 2-D features x = L·z + mu (z standard normal). */
function sample2d(n: number, L: [number, number, number, number], mu: [number, number], seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(2 * n);
  for (let r = 0; r < n; r++) {
    const z0 = rng.normal();
    const z1 = rng.normal();
    out[2 * r] = L[0] * z0 + L[1] * z1 + mu[0];
    out[2 * r + 1] = L[2] * z0 + L[3] * z1 + mu[1];
  }
  return out;
}

test('Fréchet distance: zero for the same set; 1-D Gaussians (m1-m2)² + (s1-s2)² by hand', () => {
  const a = sample2d(500, [1, 0.3, 0.2, 2], [0, 1], 1);
  close(frechetDistance(a, a, 2), 0, 1e-9);
  const x = Float64Array.from([0, 2]); // mean 1, variance 2
  const y = Float64Array.from([4, 12]); // mean 8, variance 32
  close(frechetDistance(x, y, 1), 49 + (Math.sqrt(2) - Math.sqrt(32)) ** 2, 1e-9);
});

test('Fréchet distance of non-commuting 2x2 covariances equals the closed form tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))', () => {
  const a = sample2d(400, [1, 0.5, 0, 0.7], [0.2, -0.1], 2);
  const b = sample2d(400, [0.4, 0, 0.9, 1.3], [1, 0.5], 3);
  const ga = gaussian(a, 2);
  const gb = gaussian(b, 2);
  const [a0, a1, , a3] = ga.cov as unknown as number[];
  const [b0, b1, , b3] = gb.cov as unknown as number[];
  // S1^½·S2·S1^½ has the trace and determinant of S1·S2.
  const trProd = (a0 as number) * (b0 as number) + 2 * (a1 as number) * (b1 as number) + (a3 as number) * (b3 as number);
  const det = ((a0 as number) * (a3 as number) - (a1 as number) ** 2) * ((b0 as number) * (b3 as number) - (b1 as number) ** 2);
  const trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(det));
  const meanTerm = ((ga.mean[0] as number) - (gb.mean[0] as number)) ** 2 + ((ga.mean[1] as number) - (gb.mean[1] as number)) ** 2;
  const want = meanTerm + (a0 as number) + (a3 as number) + (b0 as number) + (b3 as number) - 2 * trSqrt;
  close(frechetDistance(a, b, 2), want, 1e-9);
});

test('jacobiEigen reconstructs a symmetric matrix from its eigenpairs', () => {
  const n = 5;
  const rng = new Rng(4);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) m[i * n + j] = m[j * n + i] = rng.normal();
  const { values, vectors } = jacobiEigen(m, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (vectors[i * n + k] as number) * (values[k] as number) * (vectors[j * n + k] as number);
      close(s, m[i * n + j] as number, 1e-9);
    }
  }
});
