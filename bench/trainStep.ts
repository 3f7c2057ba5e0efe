/**
 * Training-step and sampling speed of the base-S text-to-image model, side by side in one run:
 *   - an SFT step (B=16 images: forward + backward + clip + AdamW of text encoder + UNet, as
 *     src/train/pretrain.ts does it);
 *   - a Self-DPO-shaped step (16 pairs = 32 images through the policy UNet with gradients,
 *     the same 32 through a frozen reference copy without, the DPO loss, clip + AdamW of the UNet);
 *   - DDIM sampling (25 steps, classifier-free guidance 3, so 50 UNet passes per image, batch 64);
 * on tfjs-backend-wasm and on the pure-JS cpu backend (about 100x slower: one step each, and
 * sampling scaled up from one DDIM step), and the same network in PyTorch (bench/torch_unet.py,
 * our re-implementation) on 1 and 2 threads where Debian's python3-torch is installed.
 *
 *   node --no-liftoff --import tsx bench/trainStep.ts [--quick] [--out DIR] [--force]
 *        [--model DIR] [--vocab N] [--python PATH] [--no-cpu] [--no-torch]
 *
 * Writes DIR/README.md and DIR/bench.json (default results/bench; never over earlier results
 * without --force). --quick: few repetitions and small cpu shapes, for checking the bench.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { initBackend } from '../src/backend.js';
import { nativeKernelsOn, nativeKernelsStatus, setNativeKernels } from '../src/kernels/index.js';
import { noiseCoefficients } from '../src/diffusion/forwardNoise.js';
import { generate } from '../src/model/generate.js';
import { makeSchedule, type NoiseSchedule } from '../src/diffusion/schedule.js';
import { loadModel, saveModel } from '../src/model/modelFile.js';
import type { Params } from '../src/model/params.js';
import { TextToImageModel, type ModelConfig } from '../src/model/textToImage.js';
import { denoisingGradients } from '../src/parallel/denoisingGradients.js';
import { HEAP_GROWING_PERCENT, userSetHeapGrowth } from '../src/parallel/heapGrowth.js';
import type { DenoisingJob } from '../src/parallel/protocol.js';
import { PAD, Tokenizer, UNK } from '../src/text/tokenizer.js';
import { AdamW } from '../src/optim/adamw.js';
import { denoisingError, type NoisedBatch } from '../src/objective/denoisingError.js';
import { clipByGlobalNorm } from '../src/optim/gradients.js';
import { BASE_S } from '../src/train/pretrainConfig.js';
import { parseArgs } from '../src/util/args.js';
import { Rng } from '../src/util/rng.js';
import {
  BENCH_FLAGS,
  reportDir,
  median,
  renderTables,
  timeRatios,
  writeResults,
  type BenchRecord,
  type StepTimings,
  type TfjsRun,
  type TorchCheck,
  type TorchRun,
  type WorkersRun,
} from './benchReport.js';
import { cpuModel, cpuSample, loadavg, otherCores } from './machineLoad.js';
import { CLIP, captions, DPO_BETA, FULL, log, LR, measureWorkers, sftJob, type Reps, type Shapes } from './workloads.js';

/** The shipped base-S checkpoint, used when present (same shapes as a fresh model). */
const SHIPPED_MODEL = 'data/base-s';
/** Vocabulary of the real base-S tokenizer (runs/pretrain/base-s/config.json: 4606 words). */
const DEFAULT_VOCAB = 4606;

// ---------------------------------------------------------------------------------------
// The model and its inputs

interface ModelSource {
  describe: string;
  build: () => TextToImageModel;
}

function modelSource(dir: string | undefined, vocab: number): ModelSource {
  const path = dir ?? (existsSync(join(SHIPPED_MODEL, 'model.json')) ? SHIPPED_MODEL : undefined);
  if (path !== undefined) return { describe: `checkpoint ${path}`, build: () => loadModel(path).model };
  const words = Array.from({ length: vocab - 2 }, (_, i) => `w${i}`);
  const tokenizer = new Tokenizer({ vocab: [PAD, UNK, ...words], maxLength: BASE_S.model.maxWords });
  return {
    describe: `fresh BASE_S model (no ${SHIPPED_MODEL}/model.json), synthetic ${vocab}-word vocabulary`,
    build: () => TextToImageModel.create(BASE_S.model, tokenizer, 0),
  };
}

function randomImages(n: number, R: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([n, R, R, 3], -1, 1, 'float32', seed) as tf.Tensor4D;
}

/** Winners then their losers on the batch axis, each pair sharing noise, timestep and caption (docs/DESIGN.md convention 5). */
function pairBatch(model: TextToImageModel, P: number, rng: Rng): NoisedBatch {
  const R = model.config.resolution;
  const t = Array.from({ length: P }, () => rng.int(1000));
  const c = captions(model, P, rng);
  const eps = tf.tidy(() => {
    const e = tf.randomNormal([P, R, R, 3], 0, 1, 'float32', rng.int(1e9));
    return tf.concat([e, e], 0) as tf.Tensor4D;
  });
  return { x0: randomImages(2 * P, R, rng.int(1e9)), eps, t: [...t, ...t], captions: [...c, ...c] };
}

function disposeBatch(b: NoisedBatch): void {
  tf.dispose([b.x0, b.eps]);
}

// ---------------------------------------------------------------------------------------
// The steps being timed

/**
 * One SFT step as src/train/pretrain.ts takes it on one thread: its gradient function
 * (denoisingGradients: mean denoising error, micro-batches of BASE_S's size), clip, AdamW.
 */
function sftStep(model: TextToImageModel, schedule: NoiseSchedule, optimizer: AdamW, job: DenoisingJob): number {
  const { grads, loss } = denoisingGradients(model, schedule, optimizer.variables as tf.Variable[], job);
  const clipped = clipByGlobalNorm(grads, CLIP);
  optimizer.apply(clipped.grads, LR);
  tf.dispose(clipped.grads);
  return loss;
}

/**
 * A Self-DPO-shaped step: the reference's per-image errors without gradients, the policy's
 * with, the Diffusion-DPO loss -log sigmoid(-beta·((e_w - e_l) - (ref_w - ref_l))) written
 * with softplus (tf.logSigmoid's gradient crashes on wasm), clip, AdamW of the UNet alone
 * (the text encoder is frozen after pretraining).
 */
function dpoStep(model: TextToImageModel, reference: Params, schedule: NoiseSchedule, optimizer: AdamW, batch: NoisedBatch): number {
  const P = batch.t.length / 2;
  const weights = optimizer.variables as tf.Variable[];
  const refErr = tf.tidy(() => denoisingError(model, schedule, batch, reference));
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const err = denoisingError(model, schedule, batch);
        const [ew, el] = tf.split(err, [P, P]) as [tf.Tensor1D, tf.Tensor1D];
        const [rw, rl] = tf.split(refErr, [P, P]) as [tf.Tensor1D, tf.Tensor1D];
        const d = tf.sub(tf.sub(ew, el), tf.sub(rw, rl));
        return tf.mean(tf.softplus(tf.mul(d, DPO_BETA))) as tf.Scalar;
      }),
    weights,
  );
  refErr.dispose();
  const loss = value.dataSync()[0] as number;
  value.dispose();
  const clipped = clipByGlobalNorm(
    weights.map((w) => grads[w.name] as tf.Tensor),
    CLIP,
  );
  optimizer.apply(clipped.grads, LR);
  tf.dispose(clipped.grads);
  return loss;
}

function sample(model: TextToImageModel, schedule: NoiseSchedule, caps: string[], steps: number, guidance: number): void {
  const images = generate(
    model,
    schedule,
    caps,
    caps.map((_, i) => i),
    { steps, guidance },
  );
  images.dataSync();
  images.dispose();
}

/** Wall times (ms) of `reps` calls, and the tensors left behind per call. */
function timed(label: string, reps: number, fn: () => void): { ms: number[]; growth: number } {
  const ms: number[] = [];
  const before = tf.memory().numTensors;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
    log(`  ${tf.getBackend()} ${label} ${i + 1}/${reps}: ${ms[i]?.toFixed(0)} ms`);
  }
  return { ms, growth: (tf.memory().numTensors - before) / Math.max(1, reps) };
}

/** The three workloads on the active tfjs backend, and the most tensors any of them left behind per call. */
function measureTfjs(model: TextToImageModel, schedule: NoiseSchedule, shapes: Shapes, reps: Reps, seed: number): { timings: StepTimings; growth: number } {
  const rng = new Rng(seed);
  const warmSize = (n: number): number => reps.warmBatch ?? n;
  const adamw = (vars: tf.Variable[]): AdamW => new AdamW(vars, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });

  // SFT: text encoder + UNet, as pretraining trains them.
  const sftOpt = adamw(model.params.variables);
  const job = sftJob(model, shapes.sftBatch, rng);
  const warmJob = warmSize(shapes.sftBatch) === shapes.sftBatch ? job : sftJob(model, warmSize(shapes.sftBatch), rng);
  for (let i = 0; i < reps.warm; i++) sftStep(model, schedule, sftOpt, warmJob);
  const sft = timed(`SFT B=${shapes.sftBatch}`, reps.sft, () => sftStep(model, schedule, sftOpt, job));
  sftOpt.dispose();

  // Self-DPO: UNet policy with gradients + frozen reference copy.
  const reference = model.params.clone(false);
  const dpoOpt = adamw(model.unetVariables());
  const pairs = pairBatch(model, shapes.dpoPairs, rng);
  if (reps.warm > 0) {
    const wb = warmSize(shapes.dpoPairs) === shapes.dpoPairs ? pairs : pairBatch(model, warmSize(shapes.dpoPairs), rng);
    for (let i = 0; i < reps.warm; i++) dpoStep(model, reference, schedule, dpoOpt, wb);
    if (wb !== pairs) disposeBatch(wb);
  }
  const dpo = timed(`Self-DPO ${shapes.dpoPairs} pairs`, reps.dpo, () => dpoStep(model, reference, schedule, dpoOpt, pairs));
  disposeBatch(pairs);
  dpoOpt.dispose();
  reference.dispose();

  // DDIM with classifier-free guidance, as src/model/generate.ts runs it.
  const caps = captions(model, shapes.sampleBatch, rng);
  if (reps.warm > 0) sample(model, schedule, captions(model, warmSize(shapes.sampleBatch), rng), 1, shapes.guidance);
  const k = shapes.sampleStepsTimed;
  const smp = timed(`DDIM B=${shapes.sampleBatch} ${k}/${shapes.sampleSteps} steps`, reps.sample, () => sample(model, schedule, caps, k, shapes.guidance));

  return {
    timings: {
      sft: { batch: shapes.sftBatch, ms: sft.ms },
      dpo: { pairs: shapes.dpoPairs, ms: dpo.ms },
      sample: { batch: shapes.sampleBatch, steps: shapes.sampleSteps, stepsTimed: k, guidance: shapes.guidance, ms: smp.ms.map((m) => (m * shapes.sampleSteps) / k) },
    },
    growth: Math.max(sft.growth, dpo.growth, smp.growth),
  };
}

// ---------------------------------------------------------------------------------------
// Data parallel: the kit's own training and sampling paths over 1 and N threads

// ---------------------------------------------------------------------------------------
// PyTorch

const TORCH_SCRIPT = resolve(__dirname, 'torch_unet.py');

function runPython(python: string, args: string[]): unknown {
  const r = spawnSync(python, [TORCH_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`${python} ${TORCH_SCRIPT}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${python} ${TORCH_SCRIPT} ${args.join(' ')} exited with ${r.status}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as unknown;
}

/** PyTorch's version, or why it cannot be used. */
function torchVersion(python: string): { version: string } | { skipped: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { skipped: `${python} not found (${r.error.message})` };
  if (r.status !== 0) return { skipped: `${python} cannot import torch (apt-get install -y python3-torch)` };
  let version = r.stdout.trim();
  const deb = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'python3-torch'], { encoding: 'utf8' });
  if (deb.status === 0 && deb.stdout.trim()) version += ` (Debian python3-torch ${deb.stdout.trim()})`;
  return { version };
}

/** Save the model and a 2-image forward for the PyTorch side to reproduce; compare names, shapes, FLOPs, outputs. */
async function torchCheck(python: string, model: TextToImageModel, schedule: NoiseSchedule, work: string): Promise<TorchCheck> {
  const dir = join(work, 'check');
  // A fresh model's zero-initialised output layers would make both outputs exactly 0 (a
  // check of nothing): compare on a perturbed copy in which every parameter matters.
  const params = model.params.clone();
  tf.tidy(() => params.variables.forEach((v, i) => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 100 + i)))));
  await saveModel(dir, model, { kind: schedule.kind, steps: schedule.steps }, { purpose: 'bench/trainStep.ts PyTorch check' }, params);
  const R = model.config.resolution;
  const caps = [captions(model, 1, new Rng(5))[0] as string, ''];
  const t = [17, 903];
  const { ids, mask } = model.tokenizer.encodeBatch(caps);
  const xt = tf.randomNormal([2, R, R, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  // The raw UNet output (PyTorch's forward has no v-to-eps conversion): for a 'v' model undo it.
  const eps = tf.tidy(() => {
    const e = model.predictEps(xt, t, model.encode(caps, params), schedule, params);
    if (model.config.prediction !== 'v') return e;
    const { signal, noise } = noiseCoefficients(schedule, t);
    return tf.div(tf.sub(e, tf.mul(xt, noise)), signal);
  });
  params.dispose();
  writeFileSync(join(dir, 'check.json'), JSON.stringify({ batch: 2, xt: Array.from(xt.dataSync()), t, ids: Array.from(ids), mask: Array.from(mask), eps: Array.from(eps.dataSync()) }));
  tf.dispose([xt, eps]);
  const got = runPython(python, ['--check', dir]) as {
    parameters: { text: number; unet: number };
    shapes: Record<string, number[]>;
    unetFlopsPerImage: number;
    maxAbsDiff: number;
    maxAbs: number;
  };
  const mismatches: string[] = [];
  for (const n of model.params.names) {
    const want = model.params.variable(n).shape.join(',');
    const have = got.shapes[n];
    if (have === undefined) mismatches.push(`${n} missing in PyTorch`);
    else if (have.join(',') !== want) mismatches.push(`${n}: tfjs [${want}], PyTorch [${have.join(',')}]`);
  }
  for (const n of Object.keys(got.shapes)) if (!model.params.names.includes(n)) mismatches.push(`${n} only in PyTorch`);
  return { parameters: got.parameters, shapeMismatches: mismatches, unetFlopsPerImage: got.unetFlopsPerImage, maxAbsDiff: got.maxAbsDiff, maxAbs: got.maxAbs };
}

function torchRun(python: string, configFile: string, threads: number, shapes: Shapes, reps: Reps): TorchRun {
  log(`PyTorch, ${threads} thread${threads === 1 ? '' : 's'}:`);
  const got = runPython(python, [
    '--config',
    configFile,
    '--threads',
    String(threads),
    '--sft-batch',
    String(shapes.sftBatch),
    '--dpo-pairs',
    String(shapes.dpoPairs),
    '--sample-batch',
    String(shapes.sampleBatch),
    '--sample-steps',
    String(shapes.sampleSteps),
    '--sample-steps-timed',
    String(shapes.sampleStepsTimed),
    '--guidance',
    String(shapes.guidance),
    '--warm',
    String(reps.warm),
    '--sft-reps',
    String(reps.sft),
    '--dpo-reps',
    String(reps.dpo),
    '--sample-reps',
    String(reps.sample),
  ]) as { threads: number; sft: StepTimings['sft']; dpo: StepTimings['dpo']; sample: StepTimings['sample'] };
  return { threads: got.threads, timings: { sft: got.sft, dpo: got.dpo, sample: got.sample } };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, BENCH_FLAGS);
  const quick = args.flags['quick'] === true;
  const outDir = reportDir(args, 'results/bench', ['README.md', 'bench.json']);
  const python = (args.flags['python'] as string | undefined) ?? '/usr/bin/python3';
  const vocab = Number(args.flags['vocab'] ?? DEFAULT_VOCAB);
  if (!(Number.isInteger(vocab) && vocab > 2)) throw new Error(`--vocab: expected an integer > 2, got ${String(args.flags['vocab'])}`);
  if (!process.execArgv.includes('--no-liftoff')) log('warning: run with node --no-liftoff (V8 Liftoff makes the first wasm steps slow, docs/DESIGN.md)');

  const loadStart = loadavg();
  // Other processes' CPU use, measured (the load average also counts this process, and a
  // bench run just before, e.g. convGrad under `npm run bench`).
  const probe = cpuSample();
  await new Promise((r) => setTimeout(r, 1000));
  const busyNow = otherCores(probe, cpuSample());
  if (busyNow !== null && busyNow > 0.2) log(`warning: other processes are using ${busyNow.toFixed(1)} cores right now: timings will be disturbed`);
  const others: Record<string, number | null> = {};
  let mark = cpuSample();
  const phaseDone = (name: string): void => {
    const now = cpuSample();
    others[name] = otherCores(mark, now);
    mark = now;
  };
  const date = new Date().toISOString();
  const npm = process.env['npm_lifecycle_event'];
  const command =
    npm === 'bench'
      ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
      : `node ${process.execArgv.join(' ')} ${relative(process.cwd(), process.argv[1] as string)} ${argv.join(' ')}`.trim();

  const wasmReps: Reps = quick ? { warm: 1, sft: 2, dpo: 1, sample: 1 } : { warm: 2, sft: 10, dpo: 5, sample: 3 };
  // The data-parallel Self-DPO step is the speed issue's headline and the noisiest number here
  // (two threads' passes and the wait for the slower one): more steps for a steadier median.
  const workerReps: Reps = quick ? wasmReps : { warm: 3, sft: 10, dpo: 15, sample: 3 };
  const wasmShapes: Shapes = quick ? { ...FULL, sampleStepsTimed: 3 } : FULL;
  // The cpu backend is ~100x slower: one timed step at full shapes (warm-up at batch 1), sampling
  // scaled up from one DDIM step; --quick shrinks it to 2 images.
  // The cpu backend takes about 5 minutes for one 16-image SFT step here: it runs small shapes,
  // compared with wasm at the same shapes.
  const cpuShapes: Shapes = { ...FULL, sftBatch: 2, dpoPairs: 1, sampleBatch: 2, sampleStepsTimed: 1 };
  const cpuReps: Reps = { warm: 1, warmBatch: 1, sft: 1, dpo: 1, sample: 1 };
  const torchShapes: Shapes = quick ? { ...FULL, sampleStepsTimed: 3 } : FULL;
  const torchReps: Reps = quick ? { warm: 1, sft: 2, dpo: 1, sample: 1 } : { warm: 2, sft: 10, dpo: 5, sample: 3 };

  const source = modelSource(args.flags['model'] as string | undefined, vocab);
  const schedule = makeSchedule(BASE_S.schedule.kind, BASE_S.schedule.steps);
  const work = mkdtempSync(join(tmpdir(), 'selfdpo-bench-'));
  try {
    // --- tfjs wasm
    const wasmChoice = await initBackend({ backend: 'wasm', quiet: true });
    log(`backend: wasm (${wasmChoice.detail}); model: ${source.describe}`);
    let model = source.build();
    const config: ModelConfig = model.config;
    if (JSON.stringify(config) !== JSON.stringify(BASE_S.model)) log(`note: the model's config differs from BASE_S: ${JSON.stringify(config)}`);
    const parameters = model.parameterCounts();
    const flops = model.unetFlopsPerImage();
    log(`tfjs: ${parameters.unet} UNet + ${parameters.text} text parameters, ${(flops / 1e9).toFixed(4)} GFLOP per UNet forward per image`);

    const torchAvail = args.flags['no-torch'] === true ? { skipped: '--no-torch' } : torchVersion(python);
    let check: TorchCheck | null = null;
    if ('version' in torchAvail) {
      log(`PyTorch ${torchAvail.version}: checking the re-implementation against this model`);
      check = await torchCheck(python, model, schedule, work);
      const p = check.parameters;
      log(`  parameters: tfjs ${parameters.text} text + ${parameters.unet} UNet = ${parameters.text + parameters.unet}; PyTorch ${p.text} + ${p.unet} = ${p.text + p.unet}`);
      log(`  UNet FLOPs per image: tfjs ${flops}, PyTorch ${check.unetFlopsPerImage}; max |eps diff| ${check.maxAbsDiff.toExponential(2)}`);
      if (p.text !== parameters.text || p.unet !== parameters.unet || check.shapeMismatches.length > 0) {
        throw new Error(`the PyTorch model differs from the tfjs one: ${check.shapeMismatches.slice(0, 5).join('; ') || 'parameter counts'}`);
      }
    } else {
      log(`PyTorch: skipped (${torchAvail.skipped})`);
    }

    log(`tfjs wasm${quick ? ' (quick)' : ''}:`);
    const wasm = measureTfjs(model, schedule, wasmShapes, wasmReps, 1);
    const wasmRun: TfjsRun = { backend: 'wasm', detail: wasmChoice.detail, warm: wasmReps.warm, timings: wasm.timings, tensorGrowth: wasm.growth };
    let wasmSameShapes = wasm.timings;
    const sameBatches = (a: Shapes, b: Shapes): boolean => a.sftBatch === b.sftBatch && a.dpoPairs === b.dpoPairs && a.sampleBatch === b.sampleBatch;
    if (args.flags['no-cpu'] !== true && !sameBatches(cpuShapes, wasmShapes)) {
      log("tfjs wasm at the cpu run's shapes:");
      wasmSameShapes = measureTfjs(model, schedule, cpuShapes, { ...cpuReps, warmBatch: undefined, sft: 2, dpo: 2, sample: 2 }, 2).timings;
    }
    phaseDone('tfjs wasm');
    // The same on the XNNPACK kernels alone, where the native ones are on: their speed-up.
    let wasmOnly: TfjsRun | undefined;
    if (nativeKernelsOn()) {
      setNativeKernels(false);
      log(`tfjs wasm, ${nativeKernelsStatus()}:`);
      const r = measureTfjs(model, schedule, wasmShapes, wasmReps, 1);
      wasmOnly = { backend: 'wasm', detail: 'XNNPACK and our wasm kernels only', warm: wasmReps.warm, timings: r.timings, tensorGrowth: r.growth };
      setNativeKernels(true);
      phaseDone('tfjs wasm, XNNPACK only');
    }

    // --- the kit's data-parallel paths, 1 and N threads
    const workers: WorkersRun[] = [];
    const most = cpus().length;
    for (const threads of [1, most].filter((n, i, a) => a.indexOf(n) === i)) {
      log(`data parallel, ${threads} thread(s):`);
      workers.push({ threads, ...(await measureWorkers(model, schedule, wasmShapes, workerReps, threads, 3, most > 1 ? most : undefined)) });
      phaseDone(`workers ${threads}`);
    }
    model.params.dispose();

    // --- tfjs cpu
    let cpu: BenchRecord['cpu'] = { skipped: '--no-cpu' };
    if (args.flags['no-cpu'] !== true) {
      const cpuChoice = await initBackend({ backend: 'cpu', quiet: true });
      log(`tfjs cpu (${cpuChoice.detail}): ${cpuReps.sft} step each, sampling scaled from ${cpuShapes.sampleStepsTimed} DDIM step`);
      model = source.build();
      const r = measureTfjs(model, schedule, cpuShapes, cpuReps, 2);
      model.params.dispose();
      cpu = { run: { backend: 'cpu', detail: 'pure JS', warm: cpuReps.warm, timings: r.timings, tensorGrowth: r.growth }, wasmSameShapes };
      phaseDone('tfjs cpu');
    }

    // --- PyTorch
    let torch: BenchRecord['torch'] = 'version' in torchAvail ? { check, runs: [] } : torchAvail;
    if ('runs' in torch) {
      const configFile = join(work, 'config.json');
      writeFileSync(configFile, JSON.stringify({ model: config, vocabSize: model.tokenizer.vocabSize }));
      try {
        for (const threads of [1, 2]) {
          torch.runs.push(torchRun(python, configFile, threads, torchShapes, torchReps));
          phaseDone(`PyTorch ${threads} thread${threads === 1 ? '' : 's'}`);
        }
      } catch (err) {
        // Keep the tfjs results: report PyTorch as failed rather than losing the run.
        log(`PyTorch timing failed: ${(err as Error).message}`);
        torch = { skipped: `timing failed: ${(err as Error).message}` };
      }
    }

    const summary: Record<string, number | null> = { dpoOverSftWasm: median(wasm.timings.dpo.ms) / median(wasm.timings.sft.ms) };
    const [oneThread, nThreads] = [workers[0], workers.at(-1)];
    if (oneThread && nThreads && nThreads !== oneThread) {
      const r = timeRatios(oneThread.timings, nThreads.timings);
      Object.assign(summary, {
        workersSpeedupSft: r.sft,
        workersSpeedupDpo: r.dpo,
        workersSpeedupSample: r.sample,
        workersImagesPerSec: (nThreads.timings.sample.batch * 1000) / median(nThreads.timings.sample.ms),
      });
    }
    if ('run' in cpu) {
      const r = timeRatios(cpu.run.timings, cpu.wasmSameShapes);
      Object.assign(summary, { wasmSpeedupOverCpuSft: r.sft, wasmSpeedupOverCpuDpo: r.dpo, wasmSpeedupOverCpuSample: r.sample, wasmSpeedupOverCpuMin: Math.min(r.sft, r.dpo, r.sample) });
    }
    if ('runs' in torch) {
      for (const t of torch.runs) {
        const r = timeRatios(wasm.timings, t.timings);
        summary[`wasmOverTorch${t.threads}Sft`] = r.sft;
        summary[`wasmOverTorch${t.threads}Dpo`] = r.dpo;
        summary[`wasmOverTorch${t.threads}Sample`] = r.sample;
        summary[`dpoOverSftTorch${t.threads}`] = median(t.timings.dpo.ms) / median(t.timings.sft.ms);
      }
    }
    const loadEnd = loadavg();
    const notes = [
      `Times are medians over repetitions after untimed warm-up steps: wasm ${wasmReps.warm} warm-up + ${wasmReps.sft} SFT / ${wasmReps.dpo} Self-DPO steps / ${wasmReps.sample} sampling runs; the data-parallel table ${workerReps.warm} warm-up + ${workerReps.sft} SFT / ${workerReps.dpo} Self-DPO steps (and as many of one thread's share alone) / ${workerReps.sample} sampling runs; PyTorch as the wasm table.`,
      `The cpu backend (pure JS) is about 100x slower, so it runs one warm-up step at batch 1 and then ONE timed step of each kind at small shapes (2 images, 1 pair; a 16-image step takes about 5 minutes); its sampling time is scaled up from ${cpuShapes.sampleStepsTimed} DDIM step to ${cpuShapes.sampleSteps} (every step costs the same). Its speed-up column compares with wasm at the same shapes.`,
      wasmShapes.sampleStepsTimed < wasmShapes.sampleSteps
        ? `Sampling on wasm and in PyTorch: ${wasmShapes.sampleStepsTimed} of ${wasmShapes.sampleSteps} DDIM steps run, time scaled up.`
        : 'Sampling runs all 25 DDIM steps.',
      'SFT step: the gradient function of pretraining (src/parallel/denoisingGradients.ts: mean per-image denoising error, tf.variableGrads over text encoder + UNet, one 16-image micro-batch) on the main thread alone, clipByGlobalNorm(1), tfjs AdamW (src/optim/adamw.ts) on the main thread; no EMA update. (The step the trainers run, with the optimizer on shared buffers, is in the data-parallel table.)',
      `Self-DPO-shaped step: ${2 * wasmShapes.dpoPairs} images (winners then losers sharing noise, timestep and caption) through a frozen copy of the model without gradients, then through the policy with gradients of the UNet (text encoder frozen), loss softplus(beta·((e_w - e_l) - (ref_w - ref_l))), clip, AdamW. Expected cost from FLOPs: 8/3 of an SFT step of the same pair count.`,
      'Sampling: src/model/generate.ts (DDIM, trailing timesteps, eta 0, guidance 3: conditional and unconditional passes as one doubled batch), images read back at the end.',
      "GFLOP/s use the UNet's own FLOP count (TextToImageModel.unetFlopsPerImage: matmuls and convolutions, 2 per multiply-add, text encoder left out): a training pass counts 3x forward, a Self-DPO step 3x for the policy plus 1x for the reference, sampling 2 passes per image per step.",
      'PyTorch: bench/torch_unet.py, our re-implementation of the same network (NCHW, same names, shapes, layer order, TensorFlow "same" padding), its own SFT/Self-DPO/DDIM loops mirroring these; torch.set_num_threads(1) and (2). The check loads the tfjs weights into it and compares the output of a 2-image forward. Ratios in the first table are tfjs-wasm time / PyTorch time (above 1: PyTorch is faster).',
      `wasm runs on one thread (tfjs-backend-wasm's thread pool is off in Node, docs/DESIGN.md); ${cpus().length} cores on the machine.`,
      wasmOnly
        ? 'Native kernels (native/, src/kernels/nativeWasmKernels.ts): convolutions, their gradients and BatchMatMul through OpenBLAS, and a fused group norm + SiLU, all on the wasm heap; the data-parallel optimizer loops (AdamW, EMA, gradient sum) in C too. Every column but the XNNPACK-only one uses them; that column turns them off in the same process (setNativeKernels(false)), so the speed-up is measured side by side.'
        : `Native kernels: not used (${nativeKernelsStatus()}).`,
      "Data parallel (the third table): the same three workloads through src/parallel as the trainers and samplers run them: each step's batch split over the threads (ModelPool.trainStep: one tfjs instance per worker thread; every thread writes its gradients into a SharedArrayBuffer, then sums, clips and applies AdamW to its own share of the parameters in place), the Self-DPO step with the real Eq. 9 loss (pairGradients, beta 5000, random-image losers), sampling with the prompts split over the threads. The 1-thread column is a pool without workers: the same step on the main thread alone.",
      userSetHeapGrowth()
        ? 'V8 heap growth: this run set its own --heap-growing-percent on the command line, which the pools keep.'
        : `V8 heap growth: every pool sets V8's old-generation growing factor to ${1 + HEAP_GROWING_PERCENT / 100} (src/parallel/heapGrowth.ts: fewer full collections, whose concurrent marking would take CPU from a second thread's passes); the first pool starts after the main-thread tables, so those run with V8's own factor.`,
      wasm.growth > 0 || ('run' in cpu && cpu.run.tensorGrowth > 0) ? `WARNING: tensors leaked per step (wasm ${wasm.growth}).` : 'No tensors leaked across steps (tf.memory().numTensors flat).',
    ];
    const phases = Object.entries(others)
      .map(([k, v]) => `${k} ${v === null ? '?' : v.toFixed(2)}`)
      .join(', ');
    notes.push(`Other processes' CPU use during each part, in cores (from /proc/stat minus this process and its children): ${phases || 'not measured (no /proc)'}.`);
    if (Object.values(others).some((v) => v !== null && v > 0.2)) {
      notes.push('DISTURBED: another process used a sizeable share of the CPU during this run (see the line above); the timings, the 2-thread PyTorch ones above all, are not representative.');
    }
    const record: BenchRecord = {
      date,
      command,
      quick,
      machine: {
        cpu: cpuModel(),
        cores: cpus().length,
        node: process.version,
        tfjs: tf.version.tfjs,
        tfjsWasm: version_wasm,
        wasm: wasmChoice.detail,
        torch: 'version' in torchAvail ? torchAvail.version : null,
        loadavgStart: loadStart,
        loadavgEnd: loadEnd,
        otherProcessesCores: others,
      },
      model: { source: source.describe, config, vocabSize: model.tokenizer.vocabSize, parameters, unetFlopsPerImage: flops },
      wasm: wasmRun,
      ...(wasmOnly ? { wasmOnly } : {}),
      workers,
      cpu,
      torch,
      summary,
      notes,
    };
    console.log(`\n${renderTables(record)}\n`);
    writeResults(outDir, record);
    log(`wrote ${join(outDir, 'README.md')} and ${join(outDir, 'bench.json')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
