/**
 * Whether OpenBLAS's AVX-512 kernels are right and worth it here. This environment sets
 * OPENBLAS_CORETYPE=Haswell because older OpenBLAS builds gave wrong results on AVX-512
 * processors; the kit never changes it, in tests or anywhere. This bench runs one child process
 * per core type (the variable set for the child alone), and in each: the native convolution
 * kernels (forward, input and filter gradients), BatchMatMul and the fused dense and attention
 * layers (forward and every input's gradient, against the same layers composed of tfjs ops)
 * against the pure-JS cpu backend at many shapes (edge sizes, odd sizes, empty reductions,
 * base-S's and base-L's layers), the sgemm rate on one thread, and one base-S Self-DPO gradient share.
 *
 *   node --no-liftoff --import tsx bench/blasCores.ts [--cores Haswell,SkylakeX,Cooperlake] [--out DIR] [--force]
 *
 * Writes `DIR/blas-cores.md` and `.json` (default DIR results/bench).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { initBackend } from '../src/backend.js';
import { loadNativeAddon, shortDescription } from '../src/kernels/nativeAddon.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { fusedDense, fusedDenseAvailable } from '../src/model/fusedDense.js';
import { attention } from '../src/model/layers.js';
import { loadModel } from '../src/model/modelFile.js';
import { pairGradients } from '../src/parallel/pairGradients.js';
import { parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { Rng } from '../src/util/rng.js';
import { reportDir, reportFlags } from './benchReport.js';
import { measureSgemmCeiling } from './sgemmCeiling.js';
import { selfDpoPairJob } from './workloads.js';

/** Relative error: max |a - b| / max |b| over the output, against the cpu backend. */
const TOLERANCE = 1e-4;

interface CoreResult {
  core: string;
  blas: string;
  cases: number;
  /** Worst relative error per kernel, and the case it came from. */
  worst: Record<string, { error: number; case: string }>;
  failures: string[];
  sgemmGflops: number;
  selfDpoShareMs: number;
}

type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  strides: number;
  pad: 'same' | 'valid';
}

/** Conv cases: the UNet's layers (3x3 same, stride 1 and 2, 1x1), edge and odd sizes. */
function convCases(rng: Rng): ConvCase[] {
  const out: ConvCase[] = [
    { x: [2, 32, 32, 16], filter: [3, 3, 16, 16], strides: 1, pad: 'same' },
    { x: [2, 32, 32, 32], filter: [3, 3, 32, 32], strides: 1, pad: 'same' },
    { x: [2, 16, 16, 48], filter: [3, 3, 48, 96], strides: 2, pad: 'same' },
    { x: [2, 8, 8, 160], filter: [3, 3, 160, 160], strides: 1, pad: 'same' },
    { x: [2, 4, 4, 352], filter: [3, 3, 352, 352], strides: 1, pad: 'same' },
    { x: [2, 4, 4, 704], filter: [1, 1, 704, 352], strides: 1, pad: 'valid' },
    { x: [1, 1, 1, 1], filter: [1, 1, 1, 1], strides: 1, pad: 'valid' },
    { x: [1, 3, 3, 1], filter: [3, 3, 1, 5], strides: 1, pad: 'valid' },
  ];
  for (let i = 0; i < 40; i++) {
    const k = rng.pick([1, 3, 5]);
    const h = k + rng.int(12);
    out.push({ x: [1 + rng.int(3), h, k + rng.int(12), 1 + rng.int(40)], filter: [k, k, 0, 1 + rng.int(40)], strides: 1 + rng.int(2), pad: rng.pick(['same', 'valid'] as const) });
    const c = out[out.length - 1] as ConvCase;
    c.filter[2] = c.x[3];
  }
  return out;
}

/** BatchMatMul cases: square, skinny, one row, K of 1, batched, transposed. */
function matMulCases(rng: Rng): Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> {
  const out = [
    { a: [1, 1], b: [1, 1], ta: false, tb: false },
    { a: [1, 300], b: [300, 1], ta: false, tb: false },
    { a: [512, 352], b: [352, 352], ta: false, tb: true },
    { a: [512, 352], b: [512, 352], ta: true, tb: false },
    { a: [32, 64, 40], b: [32, 40, 64], ta: false, tb: false },
    { a: [2048, 160], b: [160, 160], ta: false, tb: false },
  ];
  for (let i = 0; i < 60; i++) {
    const [m, n, k] = [1 + rng.int(rng.pick([4, 40, 300])), 1 + rng.int(rng.pick([4, 40, 300])), 1 + rng.int(rng.pick([4, 40, 300]))];
    const batch = rng.pick([[], [1 + rng.int(4)]]);
    const ta = rng.next() < 0.5;
    const tb = rng.next() < 0.5;
    out.push({ a: [...batch, ...(ta ? [k, m] : [m, k])], b: [...batch, ...(tb ? [n, k] : [k, n])], ta, tb });
  }
  return out;
}

/** Dense cases [x shape, cout]: base-S's and base-L's projections (attention at 8x8 and 4x4, cross-attention keys, embeddings), one row, one channel. */
function denseCases(rng: Rng): Array<[number[], number]> {
  const out: Array<[number[], number]> = [
    [[16, 64, 160], 160],
    [[16, 16, 352], 352],
    [[16, 17, 160], 352],
    [[16, 384], 352],
    [[1, 1], 1],
    [[3, 1], 5],
    [[2, 7], 1],
  ];
  for (let i = 0; i < 12; i++) out.push([[1 + rng.int(4), 1 + rng.int(rng.pick([4, 70])), 1 + rng.int(rng.pick([4, 300]))], 1 + rng.int(rng.pick([4, 300]))]);
  return out;
}

/** Attention cases [B, Nq, Nk, C, heads, key bias]: base-L's self- and cross-attention, one query or key, one channel per head. */
function attentionCases(rng: Rng): Array<[number, number, number, number, number, boolean]> {
  const out: Array<[number, number, number, number, number, boolean]> = [
    [4, 64, 64, 160, 8, false],
    [4, 16, 17, 352, 8, true],
    [2, 17, 17, 160, 4, true],
    [1, 1, 1, 4, 1, false],
    [2, 3, 4, 8, 8, true],
  ];
  for (let i = 0; i < 8; i++) {
    const heads = 1 + rng.int(4);
    out.push([1 + rng.int(3), 1 + rng.int(40), 1 + rng.int(40), heads * (1 + rng.int(24)), heads, rng.next() < 0.5]);
  }
  return out;
}

function filled(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rng.next() - 1);
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  return den === 0 ? num : num / den;
}

/** One core type's checks, in this process (OPENBLAS_CORETYPE as the parent set it for us). */
async function child(): Promise<CoreResult> {
  const addon = loadNativeAddon();
  if (typeof addon === 'string') throw new Error(`the native addon is needed: ${addon}`);
  await initBackend({ backend: 'wasm', quiet: true });
  const rng = new Rng(7);
  const worst: CoreResult['worst'] = {};
  const failures: string[] = [];
  let cases = 0;
  const record = (kernel: string, label: string, got: Float32Array, want: Float32Array): void => {
    cases++;
    const error = relErr(got, want);
    if (!(error <= (worst[kernel]?.error ?? -1))) worst[kernel] = { error, case: label };
    if (!(error < TOLERANCE)) failures.push(`${kernel} ${label}: relative error ${error}`);
  };
  const onBoth = async (f: () => Float32Array[]): Promise<[Float32Array[], Float32Array[]]> => {
    await tf.setBackend('cpu');
    const want = f();
    await tf.setBackend('wasm');
    return [f(), want];
  };
  for (const c of convCases(rng)) {
    const [xv, fv, bv] = [filled(c.x, rng), filled(c.filter, rng), filled([c.filter[3]], rng)];
    const label = `x [${c.x}] filter [${c.filter}] stride ${c.strides} ${c.pad}`;
    const [got, want] = await onBoth(() =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, c.x);
        const f = tf.tensor4d(fv, c.filter);
        const y = tf.fused.conv2d({ x, filter: f, strides: c.strides, pad: c.pad, bias: tf.tensor1d(bv) });
        const dy = tf.onesLike(y).mul(0.5);
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, f, c.x, c.strides, c.pad);
        const df = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [y, dx, df].map((t) => t.dataSync() as Float32Array);
      }),
    );
    ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].forEach((k, i) => record(k, label, got[i] as Float32Array, want[i] as Float32Array));
  }
  for (const c of matMulCases(rng)) {
    const [av, bv] = [filled(c.a, rng), filled(c.b, rng)];
    const [got, want] = await onBoth(() => tf.tidy(() => [tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb).dataSync() as Float32Array]));
    record('BatchMatMul', `a [${c.a}]${c.ta ? 'ᵀ' : ''} b [${c.b}]${c.tb ? 'ᵀ' : ''}`, got[0] as Float32Array, want[0] as Float32Array);
  }
  // The fused dense layer (wasm, sgemm) against x·w + b composed of tfjs ops (cpu): y, dx, dw, db.
  for (const [shape, cout] of denseCases(rng)) {
    const cin = shape[shape.length - 1] as number;
    const [xv, wv, bv] = [filled(shape, rng), filled([cin, cout], rng), filled([cout], rng)];
    const dyv = filled([...shape.slice(0, -1), cout], rng);
    const [got, want] = await onBoth(() =>
      tf.tidy(() => {
        const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor =>
          fusedDenseAvailable() ? fusedDense(x, w, b) : tf.add(tf.matMul(x.reshape([-1, cin]), w), b).reshape([...shape.slice(0, -1), cout]);
        const inputs = [tf.tensor(xv, shape), tf.tensor2d(wv, [cin, cout]), tf.tensor1d(bv)] as const;
        const dy = tf.tensor(dyv, [...shape.slice(0, -1), cout]);
        const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, w, b), dy)))([...inputs]);
        return [f(...inputs), ...grads].map((t) => t.dataSync() as Float32Array);
      }),
    );
    ['SelfdpoDense', 'SelfdpoDenseGrad dx', 'SelfdpoDenseGrad dw', 'SelfdpoDenseGrad db'].forEach((k, i) => record(k, `x [${shape}] cout ${cout}`, got[i] as Float32Array, want[i] as Float32Array));
  }
  // Fused attention (wasm) against the composed one (cpu): y, dq, dk, dv (and the key bias's gradient).
  for (const [B, Nq, Nk, C, heads, withBias] of attentionCases(rng)) {
    const [qv, kv, vv, dyv] = [filled([B, Nq, C], rng), filled([B, Nk, C], rng), filled([B, Nk, C], rng), filled([B, Nq, C], rng)];
    const biasv = Float32Array.from({ length: B * Nk }, (_, j) => (j % Nk === 0 ? 0 : rng.next() - 0.5));
    const [got, want] = await onBoth(() =>
      tf.tidy(() => {
        const inputs = [tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(kv, [B, Nk, C]), tf.tensor3d(vv, [B, Nk, C]), ...(withBias ? [tf.tensor2d(biasv, [B, Nk])] : [])];
        const dy = tf.tensor3d(dyv, [B, Nq, C]);
        const f = (...xs: tf.Tensor[]): tf.Tensor => attention(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor3D, heads, withBias ? (xs[3] as tf.Tensor2D) : null);
        return [f(...inputs), ...tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)))(inputs)].map((t) => t.dataSync() as Float32Array);
      }),
    );
    ['SelfdpoAttention', 'SelfdpoAttentionGrad dq', 'SelfdpoAttentionGrad dk', 'SelfdpoAttentionGrad dv', 'SelfdpoAttentionGrad dbias'].forEach((k, i) => {
      if (got[i] !== undefined) record(k, `B ${B} Nq ${Nq} Nk ${Nk} C ${C} heads ${heads} bias ${withBias}`, got[i] as Float32Array, want[i] as Float32Array);
    });
  }
  const sgemm = await measureSgemmCeiling([1], 2048, 5);

  // One thread's share of a base-S Self-DPO step (8 pairs), median of 5 after 1 warm-up.
  const model = loadModel('data/base-s').model;
  const schedule = makeSchedule('scaled-linear', 1000);
  const job = selfDpoPairJob(model, 8, rng);
  const reference = model.params.clone(false);
  const unet = model.params.names.filter((n) => n.startsWith('unet/')).map((n) => model.params.variable(n));
  const times: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    tf.dispose(pairGradients(model, reference, schedule, unet, job).grads);
    if (r > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    core: process.env['OPENBLAS_CORETYPE'] ?? '(unset)',
    blas: shortDescription(addon),
    cases,
    worst,
    failures,
    sgemmGflops: sgemm.gflops[1] as number,
    selfDpoShareMs: times[Math.floor(times.length / 2)] as number,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [{ name: 'cores', value: 'A,B', help: 'OpenBLAS core types to test (default: Haswell,SkylakeX,Cooperlake)' }, ...reportFlags('results/bench')]);
  const out = reportDir(args, 'results/bench', ['blas-cores.md', 'blas-cores.json']);
  const cores = ((args.flags['cores'] as string | undefined) ?? 'Haswell,SkylakeX,Cooperlake').split(',');
  const results: CoreResult[] = [];
  for (const core of cores) {
    process.stderr.write(`OPENBLAS_CORETYPE=${core}: checking\n`);
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child'], { env: { ...process.env, OPENBLAS_CORETYPE: core }, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      results.push({
        core,
        blas: '?',
        cases: 0,
        worst: {},
        failures: [`the child process failed (exit ${r.status}, signal ${r.signal}): ${r.stderr.split('\n').slice(-5).join(' ')}`],
        sgemmGflops: 0,
        selfDpoShareMs: 0,
      });
      continue;
    }
    results.push(JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as CoreResult);
  }
  const base = results[0] as CoreResult;
  const command = `node --no-liftoff --import tsx ${relative(process.cwd(), __filename)} ${argv.join(' ')}`.trim();
  const kernels = [
    'Conv2D',
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
    'BatchMatMul',
    'SelfdpoDense',
    'SelfdpoDenseGrad dx',
    'SelfdpoDenseGrad dw',
    'SelfdpoDenseGrad db',
    'SelfdpoAttention',
    'SelfdpoAttentionGrad dq',
    'SelfdpoAttentionGrad dk',
    'SelfdpoAttentionGrad dv',
    'SelfdpoAttentionGrad dbias',
  ];
  const md = [
    "# OpenBLAS's kernel sets on this machine: right, and how fast",
    '',
    `Made by \`${command}\` on ${new Date().toISOString()}. This environment sets OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'} and OPENBLAS_L2_SIZE=${process.env['OPENBLAS_L2_SIZE'] ?? '(unset)'}; each row ran in a child process with OPENBLAS_CORETYPE set for it alone (the kit itself never changes it).`,
    '',
    `Checks: the native kernels against the pure-JS cpu backend, max |difference| / max |reference| under ${TOLERANCE} (the kernel tests' tolerance), over ${base.cases} cases: convolutions (forward with bias, input and filter gradients) at base-S's and base-L's layer shapes, single pixels and channels, and 40 random sizes, kernels 1x1 to 5x5, strides 1 and 2, same and valid padding; BatchMatMul at 66 shapes, batched or not, transposed or not, one row, one column, K = 1; the fused dense layer (its output and the gradients of x, w and b) at 19 shapes and fused attention (its output and the gradients of q, k, v and the key bias) at 13, base-L's among them, against the same layers composed of tfjs ops.`,
    '',
    `| OPENBLAS_CORETYPE | OpenBLAS | cases | failures | worst error (${kernels.join(', ')}) | sgemm 2048, 1 thread | base-S Self-DPO share (8 pairs, 1 thread) |`,
    '| --- | --- | ---: | ---: | --- | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.core} | ${r.blas} | ${r.cases} | ${r.failures.length} | ${kernels.map((k) => (r.worst[k] ? r.worst[k].error.toExponential(1) : '–')).join(', ')} | ${r.sgemmGflops.toFixed(1)} GFLOP/s (${(r.sgemmGflops / base.sgemmGflops).toFixed(2)}x) | ${r.selfDpoShareMs.toFixed(0)} ms (${(base.selfDpoShareMs / r.selfDpoShareMs).toFixed(2)}x) |`,
    ),
    '',
    ...results.filter((r) => r.failures.length > 0).flatMap((r) => [`Failures with ${r.core}:`, '', ...r.failures.slice(0, 20).map((f) => `- ${f}`), '']),
  ].join('\n');
  writeFileAtomic(join(out, 'blas-cores.md'), `${md}\n`);
  writeFileAtomic(join(out, 'blas-cores.json'), `${JSON.stringify({ command, date: new Date().toISOString(), results }, null, 1)}\n`);
  console.log(md);
}

if (process.argv.includes('--child')) {
  child().then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
