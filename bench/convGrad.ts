/**
 * Conv gradients on the wasm backend: the built-in Conv2DBackpropInput (a scalar loop)
 * against our XNNPACK route, side by side in one process, plus our Conv2DBackpropFilter
 * and the forward Conv2D (same FLOPs) as a yardstick; and, where the native addon is built,
 * the same three kernels through OpenBLAS (src/kernels/nativeWasmKernels.ts). The first part
 * of `npm run bench`; run alone with
 *   node --no-liftoff --import tsx bench/convGrad.ts [--out DIR] [--force]
 * (--no-liftoff: skip V8's slow baseline wasm tier, see docs/DESIGN.md). Writes DIR/kernels.md
 * (default results/bench; never over an earlier one without --force). It takes trainStep.ts's
 * flags too, since `npm run bench -- ...` hands both the same ones.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasmConfig } from '../src/kernels/conv2dBackpropFilterWasm.js';
import { conv2dBackpropInputXnn } from '../src/kernels/conv2dBackpropInputWasm.js';
import { loadNativeAddon } from '../src/kernels/nativeAddon.js';
import { registerNativeWasmKernels } from '../src/kernels/nativeWasmKernels.js';
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { BENCH_FLAGS, reportDir } from './benchReport.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  co: number;
  stride: number;
  pad: 'same' | 'valid';
}

const cases: Case[] = [
  // base-S's levels, 16 images (one thread's share of a Self-DPO step of 16 pairs).
  { name: 'x[16,32,32,16] 3x3 16->16 s1 same', x: [16, 32, 32, 16], k: 3, co: 16, stride: 1, pad: 'same' },
  { name: 'x[16,16,16,48] 3x3 48->48 s1 same', x: [16, 16, 16, 48], k: 3, co: 48, stride: 1, pad: 'same' },
  { name: 'x[16,8,8,96] 3x3 96->96 s1 same', x: [16, 8, 8, 96], k: 3, co: 96, stride: 1, pad: 'same' },
  { name: 'x[16,4,4,192] 3x3 192->192 s1 same', x: [16, 4, 4, 192], k: 3, co: 192, stride: 1, pad: 'same' },
  { name: 'x[16,32,32,16] 3x3 16->48 s2 same', x: [16, 32, 32, 16], k: 3, co: 48, stride: 2, pad: 'same' },
  // The prototype's (the 2.07-GFLOP UNet).
  { name: 'x[8,32,32,64] 3x3 64->64 s1 same', x: [8, 32, 32, 64], k: 3, co: 64, stride: 1, pad: 'same' },
  { name: 'x[8,16,16,128] 3x3 128->128 s1 same', x: [8, 16, 16, 128], k: 3, co: 128, stride: 1, pad: 'same' },
  { name: 'x[8,32,32,64] 3x3 64->128 s2 same', x: [8, 32, 32, 64], k: 3, co: 128, stride: 2, pad: 'same' },
  { name: 'x[8,16,16,128] 3x3 128->128 s2 same', x: [8, 16, 16, 128], k: 3, co: 128, stride: 2, pad: 'same' },
  { name: 'x[8,32,32,64] 1x1 64->64 s1 valid', x: [8, 32, 32, 64], k: 1, co: 64, stride: 1, pad: 'valid' },
  { name: 'x[2,64,64,32] 3x3 32->32 s1 same', x: [2, 64, 64, 32], k: 3, co: 32, stride: 1, pad: 'same' },
];

type Fn = (args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo | TensorInfo[];

/** Median wall time in ms of `reps` calls after `warm` warm-up calls (wasm runs synchronously). */
function time(fn: Fn, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, reps: number, warm = 2): number {
  const backend = tf.backend();
  const one = (): number => {
    const t0 = performance.now();
    const out = fn({ inputs, backend, attrs });
    const t1 = performance.now();
    for (const o of Array.isArray(out) ? out : [out]) backend.disposeData(o.dataId);
    return t1 - t0;
  };
  for (let i = 0; i < warm; i++) one();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(one());
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)] as number;
}

function kernel(name: string): Fn {
  const k: KernelConfig | undefined = tf.getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`no wasm kernel ${name}`);
  return k.kernelFunc as unknown as Fn;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), BENCH_FLAGS);
  const outDir = reportDir(args, 'results/bench', ['kernels.md']);
  const outFile = join(outDir, 'kernels.md');
  if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') throw new Error('wasm backend failed');
  // Take the built-in before anything could replace it.
  const builtinInput = kernel('Conv2DBackpropInput');
  const conv = kernel('Conv2D');
  const ourFilter = conv2dBackpropFilterWasmConfig.kernelFunc as unknown as Fn;
  const ourInput = conv2dBackpropInputXnn as unknown as Fn;
  const addon = loadNativeAddon();
  // Our XNNPACK kernels call the registered Conv2D: the native kernels are registered only
  // while they are timed, so that the XNNPACK columns are XNNPACK's alone.
  tf.registerKernel(conv2dBackpropFilterWasmConfig);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const setting = `wasm (simd ${String(simd)}, ${getThreadsCount()} thread); median ms; GFLOP/s in brackets; native: ${typeof addon === 'string' ? addon : addon.describe()}`;
  console.log(setting);
  const nativeCols = typeof addon !== 'string' ? ['fwd native', 'dX native', 'dW native', 'native speed-up fwd/dX/dW'] : [];
  const header = ['case', 'fwd Conv2D', 'dX built-in', 'dX ours', 'dX speed-up', 'dW ours', 'dW/fwd', ...nativeCols];
  console.log(header.join(' | '));
  const rows: string[][] = [];
  for (const c of cases) {
    const [b, h, w, ci] = c.x;
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const f = tf.randomNormal([c.k, c.k, ci, c.co]) as tf.Tensor4D;
    const y = tf.conv2d(x, f, c.stride, c.pad);
    const dy = tf.randomNormal(y.shape);
    const [, oh, ow] = y.shape;
    const flop = 2 * b * oh * ow * c.co * c.k * c.k * ci;
    const reps = flop > 2e9 ? 3 : 5;
    const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
    const tFwd = time(conv, { x, filter: f }, { ...common, dilations: 1 } as NamedAttrMap, reps);
    const dxAttrs = { ...common, inputShape: [b, h, w, ci] } as NamedAttrMap;
    const tBuiltin = time(builtinInput, { dy, filter: f }, dxAttrs, reps, 1);
    const tOurs = time(ourInput, { dy, filter: f }, dxAttrs, reps);
    const dwAttrs = { ...common, filterShape: f.shape } as NamedAttrMap;
    const tDw = time(ourFilter, { x, dy }, dwAttrs, reps);
    const g = (ms: number): string => `${ms.toFixed(1)} (${(flop / ms / 1e6).toFixed(1)})`;
    const cols = [c.name, g(tFwd), g(tBuiltin), g(tOurs), `${(tBuiltin / tOurs).toFixed(2)}x`, g(tDw), `${(tDw / tFwd).toFixed(2)}`];
    if (typeof addon !== 'string') {
      const unregister = registerNativeWasmKernels(addon);
      const native = { fwd: kernel('Conv2D'), dx: kernel('Conv2DBackpropInput'), dw: kernel('Conv2DBackpropFilter') };
      const nFwd = time(native.fwd, { x, filter: f }, { ...common, dilations: 1 } as NamedAttrMap, reps);
      const nDx = time(native.dx, { dy, filter: f }, dxAttrs, reps);
      const nDw = time(native.dw, { x, dy }, dwAttrs, reps);
      cols.push(g(nFwd), g(nDx), g(nDw), [tFwd / nFwd, tOurs / nDx, tDw / nDw].map((r) => `${r.toFixed(2)}x`).join(' / '));
      unregister();
    }
    console.log(cols.join(' | '));
    rows.push(cols);
    tf.dispose([x, f, y, dy]);
  }
  const markdown = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileAtomic(
    outFile,
    [
      '# Convolution kernels on wasm, one thread',
      '',
      `Made by \`npm run bench\` (its first part, \`bench/convGrad.ts\`) on ${new Date().toISOString()}; ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
      '',
      `Each kernel alone, on shapes of base-S (16 images: one thread's share of a 16-pair Self-DPO step) and of the issue's 2.07-GFLOP prototype. ${setting}. "dX built-in" is tfjs-backend-wasm's own Conv2DBackpropInput; "ours" are the XNNPACK kernels of \`src/kernels/\`; "native" the OpenBLAS kernels of \`native/\`. The speed-ups are ratios of times measured side by side in this run.`,
      '',
      ...markdown,
      '',
    ].join('\n'),
  );
  console.log(`wrote ${outFile}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
