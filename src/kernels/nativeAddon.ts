/**
 * The optional native addon (native/*.c, built by `npm ci` through
 * scripts/buildNative.mjs where a C compiler and Debian's libopenblas-dev are present):
 * convolutions and matmuls with OpenBLAS and a fused group norm on the wasm heap
 * (nativeWasmKernels.ts), and the data-parallel optimizer's loops (src/train/flatAdamW.ts).
 * Absent or broken, the kit runs on the wasm backend's own kernels and JS loops;
 * `SELFDPO_NATIVE=0` turns it off on purpose.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The addon's functions (see native/addon.c for each parameter block). */
export interface NativeAddon {
  /** ADDON_VERSION of the source it was built from. */
  version: number;
  conv2d(heap: ArrayBuffer, params: Float64Array): void;
  conv2dBackpropInput(heap: ArrayBuffer, params: Float64Array): void;
  conv2dBackpropFilter(heap: ArrayBuffer, params: Float64Array): void;
  batchMatMul(heap: ArrayBuffer, params: Float64Array): void;
  /** params: outer, count, (offset, inner) per input, outOffset (bytes): input i is [outer, inner_i], the output [outer, sum of inner_i]; at most 16 inputs. */
  concatRows(heap: ArrayBuffer, params: Float64Array): void;
  /** params: outer, count, xOffset, (offset or -1 to skip, inner) per output (bytes): x is [outer, sum of inner_i], output i [outer, inner_i]; at most 16 outputs. */
  splitRows(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, outer, dim, slice, n, xOffset, indicesOffset, outOffset (bytes): out[b, o, i, :] = x[b, o, indices[b, i], :] (4-byte elements); throws on an index outside [0, dim). */
  gatherSlices(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, inH, inW, c, outH, outW, alignCorners, halfPixelCenters, xOffset, outOffset (bytes): nearest-neighbour resize of NHWC images. */
  resizeNearest(heap: ArrayBuffer, params: Float64Array): void;
  /** params: as resizeNearest's, with dyOffset, dxOffset: its gradient (halfPixelCenters ignored, as tfjs's backends do). */
  resizeNearestGrad(heap: ArrayBuffer, params: Float64Array): void;
  /** params: outer, reduce, inner, xOffset, outOffset (bytes): out[o, i] = sum over r of x[o, r, i]. */
  sumMiddleAxes(heap: ArrayBuffer, params: Float64Array): void;
  /** params: rows, cin, cout, xOffset, wOffset, bOffset (-1: none), outOffset (bytes): out[rows, cout] = x[rows, cin] · w (+ b). */
  dense(heap: ArrayBuffer, params: Float64Array): void;
  /** params: rows, cin, cout, dyOffset, xOffset, wOffset, dxOffset, dwOffset, dbOffset (bytes; -1: not wanted): dense's gradient. */
  denseGrad(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, nq, nk, c, heads, scale, qOffset, kOffset, vOffset, biasOffset (-1: none), outOffset (bytes): multi-head attention. */
  attention(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, nq, nk, c, heads, scale, dyOffset, qOffset, kOffset, vOffset, biasOffset (-1: none), dqOffset, dkOffset, dvOffset, dbiasOffset (-1: none) (bytes): its gradient. */
  attentionGrad(heap: ArrayBuffer, params: Float64Array): void;
  /** params: rows, C, eps, xOffset, gammaOffset, betaOffset, outOffset (bytes): layer norm over the last axis. */
  layerNorm(heap: ArrayBuffer, params: Float64Array): void;
  /** params: rows, C, eps, dyOffset, xOffset, gammaOffset, dxOffset, dgammaOffset, dbetaOffset (bytes): its gradient. */
  layerNormGrad(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, hw, c, groups, eps, silu, xOffset, gammaOffset, betaOffset, outOffset, statsOffset, shiftOffset (-1: none) (bytes). */
  groupNorm(heap: ArrayBuffer, params: Float64Array): void;
  /** params: batch, hw, c, groups, eps, silu, dyOffset, xOffset, gammaOffset, betaOffset, statsOffset, dxOffset, dgammaOffset, dbetaOffset, shiftOffset, dshiftOffset (-1: no shift) (bytes). */
  groupNormGrad(heap: ArrayBuffer, params: Float64Array): void;
  /** params: a, b, lr, beta1, beta2, epsilon, gradScale, c1, c2, keep. */
  adamW(w: Float32Array, m: Float32Array, v: Float32Array, decay: Uint8Array, g: Float32Array, params: Float64Array): void;
  /** params: a, b, d. */
  ema(ema: Float32Array, w: Float32Array, params: Float64Array): void;
  /** params: a, b; returns the sum of squares of parts[0] over [a, b) after adding the rest in. */
  sumRange(parts: readonly Float32Array[], params: Float64Array): number;
  /** OpenBLAS's build config and the core it chose, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...; core Cooperlake". */
  describe(): string;
}

/** Environment variable: '0' keeps the wasm backend's own kernels even when the addon is built. */
const NATIVE_ENV_VAR = 'SELFDPO_NATIVE';

/** The ADDON_VERSION of native/*.c that this code calls. */
const EXPECTED_VERSION = 10;

/** Where scripts/buildNative.mjs puts the addon (this file sits in src/kernels or dist/kernels). */
const NATIVE_ADDON_PATH = path.join(__dirname, '..', '..', 'native', 'build', 'selfdpoNative.node');

let loaded: { addon: NativeAddon } | { reason: string } | undefined;

/** The addon, or the reason it is not used (not built, turned off, or failed to load). */
export function loadNativeAddon(env: Readonly<Record<string, string | undefined>> = process.env): NativeAddon | string {
  if (env[NATIVE_ENV_VAR] === '0') return `${NATIVE_ENV_VAR}=0`;
  if (loaded === undefined) {
    if (!fs.existsSync(NATIVE_ADDON_PATH)) {
      loaded = { reason: `${path.relative(process.cwd(), NATIVE_ADDON_PATH)} is not built (npm run build:native)` };
    } else {
      try {
        // A compiled addon loads only through require (by its path).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const addon = require(NATIVE_ADDON_PATH) as NativeAddon;
        loaded =
          addon.version === EXPECTED_VERSION
            ? { addon }
            : { reason: `${NATIVE_ADDON_PATH} was built from another version of native/*.c (${String(addon.version)}, need ${EXPECTED_VERSION}): npm run build:native` };
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        loaded = { reason: `${NATIVE_ADDON_PATH} did not load: ${msg.split('\n')[0] ?? msg}` };
      }
    }
  }
  return 'addon' in loaded ? loaded.addon : loaded.reason;
}

/** "OpenBLAS 0.3.21, core Cooperlake" from the addon's `describe()`. */
export function shortDescription(addon: NativeAddon): string {
  const [config = '', core = '?'] = addon.describe().split('; core ');
  return `${config.split(' ').slice(0, 2).join(' ')}, core ${core}`;
}
