import assert from 'node:assert/strict';

/** Helpers shared by the conv-gradient kernel tests. */

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
export type Pad = 'same' | 'valid' | number | ExplicitPadding;
export type Shape4 = [number, number, number, number];

/** Tolerance of the issue: max |a-b| / max |b| against the cpu backend. */
export const TOL = 1e-4;

/** Deterministic values in [-1, 1) (an LCG, independent of src/util/rng). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** max |a-b| / max |b|; refuses an all-zero reference, which would test nothing. */
export function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  assert.ok(den > 0, 'reference gradient is all zero: the case tests nothing');
  return num / den;
}

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
