/**
 * AdamW and the EMA on flat float32 buffers, one element range at a time, so that every
 * thread of a data-parallel step updates its own share of the parameters in place (the
 * buffers are shared). The same arithmetic as `AdamW` (decoupled decay on matrices and
 * kernels only, bias-corrected moments), in plain loops: on wasm a per-variable tfjs
 * update of 5M parameters costs a dozen kernel launches and tensors per variable. Where the
 * native addon is built its C loops run instead, bit for bit the same (native/optimizer.c),
 * about 4x faster.
 */
import { loadNativeAddon, type NativeAddon } from '../kernels/nativeAddon.js';

let nativeAllowed = true;

/** The native loops, or undefined (JS loops). loadNativeAddon caches the addon. */
function nativeLoops(): NativeAddon | undefined {
  if (!nativeAllowed) return undefined;
  const addon = loadNativeAddon();
  return typeof addon === 'string' ? undefined : addon;
}

/** Runs the JS loops even where the native ones exist (false), or the native ones again: for tests and benchmarks. */
export function setNativeOptimizerLoops(on: boolean): void {
  nativeAllowed = on;
}

const params = new Float64Array(10);

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1-based update count (for the bias corrections). */
  step: number;
  /** Factor on the gradient before the update (global-norm clipping). */
  gradScale: number;
}

/** The trained parameters and AdamW's moments as flat buffers (all the same length). */
export interface FlatAdamWState {
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** 1 where an element belongs to a matrix or kernel (decayed), 0 for biases and norm scales. */
  decay: Uint8Array;
}

/** One AdamW update of elements [a, b) with gradient g. */
export function adamWRange(s: FlatAdamWState, g: Float32Array, a: number, b: number, h: AdamWHyper): void {
  const { w, m, v, decay } = s;
  const { lr, beta1, beta2, epsilon, gradScale } = h;
  const c1 = 1 - beta1 ** h.step;
  const c2 = 1 - beta2 ** h.step;
  const keep = 1 - lr * h.weightDecay;
  const addon = nativeLoops();
  if (addon !== undefined) {
    params.set([a, b, lr, beta1, beta2, epsilon, gradScale, c1, c2, keep]);
    addon.adamW(w, m, v, decay, g, params);
    return;
  }
  for (let i = a; i < b; i++) {
    const gi = (g[i] as number) * gradScale;
    const mi = beta1 * (m[i] as number) + (1 - beta1) * gi;
    const vi = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const wi = decay[i] === 1 ? (w[i] as number) * keep : (w[i] as number);
    w[i] = wi - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
  }
}

/**
 * The EMA of weights over [a, b): ema = d·ema + (1 - d)·w with d = min(decay, (1 + n)/(10 + n))
 * after n updates, as `updateEma`.
 */
export function emaRange(ema: Float32Array, w: Float32Array, a: number, b: number, decay: number, updates: number): void {
  const d = Math.min(decay, (1 + updates) / (10 + updates));
  const addon = nativeLoops();
  if (addon !== undefined) {
    params.set([a, b, d]);
    addon.ema(ema, w, params);
    return;
  }
  for (let i = a; i < b; i++) ema[i] = d * (ema[i] as number) + (1 - d) * (w[i] as number);
}

/**
 * Add parts[1..] into parts[0] over [a, b), in part order (every thread sums its range the
 * same way), and return the sum of squares of the result over the range.
 */
export function sumRange(parts: readonly Float32Array[], a: number, b: number): number {
  const addon = nativeLoops();
  if (addon !== undefined) {
    params.set([a, b]);
    return addon.sumRange(parts, params);
  }
  const into = parts[0] as Float32Array;
  let squares = 0;
  if (parts.length === 2) {
    // The two-thread case in a loop V8 can keep tight (no inner loop over the parts).
    const other = parts[1] as Float32Array;
    for (let i = a; i < b; i++) {
      const s = Math.fround((into[i] as number) + (other[i] as number));
      into[i] = s;
      squares += s * s;
    }
    return squares;
  }
  for (let i = a; i < b; i++) {
    let s = into[i] as number;
    for (let k = 1; k < parts.length; k++) s += (parts[k] as Float32Array)[i] as number;
    into[i] = s;
    squares += Math.fround(s) * Math.fround(s);
  }
  return squares;
}
