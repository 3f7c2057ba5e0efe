import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { initBackend, type BackendName } from '../backend.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { denoisingGradients } from './denoisingGradients.js';
import type { Params } from '../model/params.js';
import { pairGradients } from './pairGradients.js';
import type { NamedWeights } from '../model/weightsFile.js';
import type { AdamWOptions } from '../optim/adamw.js';
import { adamWRange, emaRange, sumRange, type AdamWHyper } from '../optim/flatAdamW.js';
import { clipByGlobalNorm } from '../optim/gradients.js';
import type { Optimizer } from '../optim/optimizer.js';
import { byName } from '../optim/optimizer.js';
import type { VariableGroups } from '../optim/trainState.js';
import { FlatLayout } from './flatParams.js';
import { widenHeapGrowth } from './heapGrowth.js';
import type { DenoisingJob, PairJob, PairStats, SampleJob, SharedOptimizerBuffers, WorkerJob, WorkerReply, WorkerRequest, WorkerSetup } from './protocol.js';
import { SAMPLE_CHUNK, sampleBytes } from './sampleBytes.js';

/** Workers to use by default: one per core on the CPU backends (wasm runs one thread per instance). */
export function defaultWorkerCount(backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? availableParallelism() : 1;
}

/** A gradient job's reply. */
interface Done {
  loss: number;
  stats?: PairStats;
}

interface Slot {
  worker: Worker;
  grads: Float32Array;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
}

/**
 * The optimizer a training pool runs. `shared-adamw`: AdamW (and an optional EMA) on buffers
 * shared by every thread, each updating its share of the parameters. `main-thread`: any
 * optimizer on the main thread's variables, for Adafactor, whose factored moments need whole
 * matrices. Either way `trainStep` is the one update path.
 */
export type PoolOptimizer = { kind: 'shared-adamw'; adam: AdamWOptions; ema: boolean } | { kind: 'main-thread'; create: (variables: readonly tf.Variable[]) => Optimizer };

/** The flat AdamW of a `shared-adamw` pool: buffers shared by every thread. */
interface SharedOptimizer {
  adam: AdamWOptions;
  /** Updates applied so far. */
  step: number;
  m: Float32Array;
  v: Float32Array;
  ema?: Float32Array;
  decay: Uint8Array;
  /** grads[0] is the main thread's, grads[k] worker k's (= slots[k - 1].grads). */
  grads: Float32Array[];
}

/** The hyperparameters of one `trainStep`. */
export interface TrainStepHyper {
  lr: number;
  /** Global gradient-norm clip (0 = none). */
  clipNorm: number;
  /** EMA decay, when the pool keeps an EMA. */
  emaDecay?: number;
}

/**
 * Data parallelism over worker_threads: the main thread and each worker hold their own tfjs
 * instance and copy of the model. Gradients: for a step the main thread publishes its weights in a
 * SharedArrayBuffer, every thread computes the gradients of its share of the batch, and the
 * main thread adds them up (in a fixed order) and applies the update itself. Sampling: the
 * prompts are split over the threads. The gradient sum equals
 * the single-thread gradient up to float rounding; the wasm backend uses one core per
 * instance, so this is how a run uses them all.
 */
export class ModelPool {
  private nextId = 0;
  /**
   * Whether every worker's variables already hold the shared weights: after a `trainStep` the
   * workers load them while the main thread loads its own (off the next step's critical path),
   * so its jobs can skip the load. Anything that may write the shared weights clears it.
   */
  private workersCurrent = false;
  /** The optimizer of a `main-thread` pool. */
  private mainOptimizer: Optimizer | undefined;

  private constructor(
    private readonly slots: Slot[],
    private readonly weights: Float32Array,
    private readonly variables: tf.Variable[],
    /** Where each trained variable sits in the shared weights (and moments and gradients). */
    private readonly layout: FlatLayout,
    private readonly names: readonly string[],
    private readonly shared?: SharedOptimizer,
  ) {}

  /** Updates `trainStep` has applied (restore it when resuming: bias corrections and decay rates use it). */
  get optimizerStep(): number {
    return this.shared?.step ?? this.mainOptimizer?.step ?? 0;
  }

  set optimizerStep(step: number) {
    if (this.shared) this.shared.step = step;
    else if (this.mainOptimizer) this.mainOptimizer.step = step;
    else throw new Error('ModelPool: start the pool with an optimizer');
  }

  /** Threads in all, the main thread included. */
  get size(): number {
    return this.slots.length + 1;
  }

  /** Start `threads - 1` workers holding copies of `model` (whose `variables` are trained). */
  static async start(model: TextToImageModel, schedule: NoiseSchedule, names: string[], threads: number, backend: BackendName, reference?: Params, optimizer?: PoolOptimizer): Promise<ModelPool> {
    // Before the workers start, so that every isolate collects its garbage less often (see heapGrowth.ts).
    widenHeapGrowth();
    const variables = names.map((n) => model.params.variable(n));
    const layout = FlatLayout.of(names, variables);
    const total = layout.size;
    const weightsBuf = new SharedArrayBuffer(total * 4);
    const initial = flatten(model.params);
    const referenceFlat = reference ? flatten(reference) : undefined;
    // One gradient buffer per thread, the main thread's first.
    const gradsBufs = Array.from({ length: Math.max(1, threads) }, () => new SharedArrayBuffer(total * 4));
    let buffers: SharedOptimizerBuffers | undefined;
    let shared: SharedOptimizer | undefined;
    if (optimizer?.kind === 'shared-adamw') {
      buffers = {
        m: new SharedArrayBuffer(total * 4),
        v: new SharedArrayBuffer(total * 4),
        decay: new SharedArrayBuffer(total),
        grads: gradsBufs,
        ...(optimizer.ema ? { ema: new SharedArrayBuffer(total * 4) } : {}),
      };
      shared = {
        adam: optimizer.adam,
        step: 0,
        m: new Float32Array(buffers.m),
        v: new Float32Array(buffers.v),
        decay: new Uint8Array(buffers.decay),
        grads: gradsBufs.map((g) => new Float32Array(g)),
        ...(buffers.ema ? { ema: new Float32Array(buffers.ema) } : {}),
      };
      shared.decay.set(layout.decayMask());
    }
    // The worker is a sibling file: .ts when run through tsx (tests), .js from dist/.
    const file = join(__dirname, `modelWorker${extname(__filename)}`);
    const slots: Slot[] = [];
    const pool = new ModelPool(slots, new Float32Array(weightsBuf), variables, layout, names, shared);
    if (optimizer?.kind === 'main-thread') pool.mainOptimizer = optimizer.create(variables);
    layout.read(variables, pool.weights);
    if (shared?.ema) shared.ema.set(pool.weights);
    try {
      for (let i = 1; i < threads; i++) {
        const gradsBuf = gradsBufs[i] as SharedArrayBuffer;
        const setup: WorkerSetup = {
          backend,
          model: model.config,
          tokenizer: model.tokenizer.toJSON(),
          schedule: { kind: schedule.kind, steps: schedule.steps },
          names,
          initial,
          ...(referenceFlat ? { reference: referenceFlat } : {}),
          weights: weightsBuf,
          grads: gradsBuf,
          ...(buffers ? { optimizer: buffers } : {}),
        };
        const worker = file.endsWith('.ts')
          ? // Under tsx (tests) a worker does not inherit its loader: register tsx's CommonJS hook first.
            new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, { eval: true, workerData: setup })
          : new Worker(file, { workerData: setup });
        const slot: Slot = { worker, grads: new Float32Array(gradsBuf), pending: new Map() };
        slots.push(slot);
        await new Promise<void>((resolve, reject) => {
          const onMessage = (m: WorkerReply): void => {
            if (m.type === 'ready') {
              worker.off('message', onMessage);
              resolve();
            } else if (m.type === 'error') reject(new Error(`gradient worker ${i} failed to start: ${m.message}`));
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
        });
        worker.on('message', (m: WorkerReply) => {
          if (m.type === 'done') slot.pending.get(m.id)?.resolve({ loss: m.loss, stats: m.stats });
          else if (m.type === 'images') slot.pending.get(m.id)?.resolve(m.images);
          else if (m.type === 'reduced') slot.pending.get(m.id)?.resolve(m.squares);
          else if (m.type === 'updated') slot.pending.get(m.id)?.resolve(undefined);
          else if (m.type === 'error') slot.pending.get(m.id)?.reject(new Error(`gradient worker ${i}: ${m.message}`));
          if (m.type !== 'ready') slot.pending.delete(m.id);
        });
        worker.on('error', (err) => {
          for (const p of slot.pending.values()) p.reject(err);
          slot.pending.clear();
        });
      }
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  /**
   * Gradients (one tensor per variable, the caller disposes them) of the sum of the jobs'
   * losses, that sum, and for pair jobs the summed logging stats. jobs[0] runs on the main
   * thread (with `reference` for pair jobs), jobs[k] on worker k; give at most `size` jobs,
   * all of one kind.
   */
  async gradients(model: TextToImageModel, schedule: NoiseSchedule, jobs: Array<DenoisingJob | PairJob>, reference?: Params): Promise<{ grads: tf.Tensor[]; loss: number; stats?: PairStats }> {
    if (jobs.length === 0 || jobs.length > this.size) throw new Error(`ModelPool: ${jobs.length} jobs for ${this.size} threads`);
    this.publishWeights();
    const remote = jobs.slice(1).map((job, k) => this.send(k, job) as Promise<Done>);
    const local = this.localGradients(model, schedule, jobs[0] as DenoisingJob | PairJob, reference);
    const done = await Promise.all(remote);
    if (done.length === 0) return local;
    let start = 0;
    const grads = local.grads.map((g) => {
      const sum = Float32Array.from(g.dataSync() as Float32Array);
      for (let k = 0; k < done.length; k++) {
        const part = (this.slots[k] as Slot).grads.subarray(start, start + sum.length);
        for (let e = 0; e < sum.length; e++) sum[e] = (sum[e] as number) + (part[e] as number);
      }
      start += sum.length;
      return tf.tensor(sum, g.shape);
    });
    tf.dispose(local.grads);
    return { grads, loss: done.reduce((s, d) => s + d.loss, local.loss), stats: local.stats && addStats([local.stats, ...done.map((d) => d.stats as PairStats)]) };
  }

  /**
   * Images for captions[i] from seeds[i], as RGB bytes, the prompts split over every thread.
   * The same as sampling on one thread: an image depends only on its caption and seed.
   */
  async sample(
    model: TextToImageModel,
    schedule: NoiseSchedule,
    captions: string[],
    seeds: number[],
    options: SampleJob['options'],
    chunk = SAMPLE_CHUNK,
    onImages?: (done: number, total: number) => void,
  ): Promise<Uint8Array[]> {
    if (captions.length !== seeds.length) throw new Error(`sample: ${captions.length} captions but ${seeds.length} seeds`);
    this.publishWeights();
    const shares = splitEvenly(captions.length, this.size);
    const jobs: SampleJob[] = shares.map(([a, b]) => ({ kind: 'sample', captions: captions.slice(a, b), seeds: seeds.slice(a, b), options, chunk }));
    let remoteDone = 0;
    const remote = jobs.slice(1).map((job, k) =>
      (this.send(k, job) as Promise<Uint8Array[]>).then((images) => {
        remoteDone += images.length;
        return images;
      }),
    );
    const local = await sampleBytes(model, schedule, jobs[0] as SampleJob, (d) => onImages?.(d + remoteDone, captions.length));
    const rest = await Promise.all(remote);
    onImages?.(captions.length, captions.length);
    return [local, ...rest].flat();
  }

  /**
   * One optimizer step of a pool started with an optimizer: every thread computes its job's
   * gradients, the global norm clips them, and the pool's optimizer applies them. A
   * `shared-adamw` pool spreads the rest over the threads too: each sums its share of the
   * parameter range over all gradient buffers, then, once the global norm is known, applies
   * AdamW (clipped) and the EMA to that share in place; the main thread's variables are then
   * set from the shared weights, which workers read at their next job. The same arithmetic
   * whatever the thread count, up to the order of float sums.
   */
  async trainStep(
    model: TextToImageModel,
    schedule: NoiseSchedule,
    jobs: Array<DenoisingJob | PairJob>,
    reference: Params | undefined,
    h: TrainStepHyper,
  ): Promise<{ loss: number; stats?: PairStats; gradNorm: number }> {
    if (this.mainOptimizer) {
      const { grads, loss, stats } = await this.gradients(model, schedule, jobs, reference);
      const clipped = clipByGlobalNorm(grads, h.clipNorm);
      this.mainOptimizer.apply(clipped.grads, h.lr);
      tf.dispose(clipped.grads);
      return { loss, gradNorm: clipped.norm, ...(stats ? { stats } : {}) };
    }
    const shared = this.shared;
    if (!shared) throw new Error('ModelPool.trainStep: start the pool with an optimizer');
    if (jobs.length === 0 || jobs.length > this.size) throw new Error(`ModelPool: ${jobs.length} jobs for ${this.size} threads`);
    const remote = jobs.slice(1).map((job, k) => this.send(k, job) as Promise<Done>);
    const local = this.localGradients(model, schedule, jobs[0] as DenoisingJob | PairJob, reference);
    this.layout.read(local.grads, shared.grads[0] as Float32Array);
    tf.dispose(local.grads);
    const done = await Promise.all(remote);
    // Threads that sent no job this step hold stale gradients: zero them so the sum skips them.
    for (let k = jobs.length; k < this.size; k++) (shared.grads[k] as Float32Array).fill(0);
    const ranges = splitEvenly(this.layout.size, this.size);
    const [a0, b0] = ranges[0] as [number, number];
    const remoteSquares = ranges.slice(1).map((range, k) => this.request(k, { type: 'reduce', id: this.nextId++, range }) as Promise<number>);
    const squares = sumRange(shared.grads, a0, b0) + (await Promise.all(remoteSquares)).reduce((s, x) => s + x, 0);
    const gradNorm = Math.sqrt(squares);
    shared.step += 1;
    const hyper: AdamWHyper = { ...shared.adam, lr: h.lr, step: shared.step, gradScale: h.clipNorm > 0 && gradNorm > h.clipNorm ? h.clipNorm / (gradNorm + 1e-6) : 1 };
    const ema = shared.ema && h.emaDecay !== undefined ? { decay: h.emaDecay, updates: shared.step - 1 } : undefined;
    const remoteUpdates = ranges.slice(1).map((range, k) => this.request(k, { type: 'update', id: this.nextId++, range, hyper, ...(ema ? { ema } : {}) }));
    adamWRange({ w: this.weights, m: shared.m, v: shared.v, decay: shared.decay }, shared.grads[0] as Float32Array, a0, b0, hyper);
    if (ema && shared.ema) emaRange(shared.ema, this.weights, a0, b0, ema.decay, ema.updates);
    await Promise.all(remoteUpdates);
    for (const slot of this.slots) slot.worker.postMessage({ type: 'pull' } satisfies WorkerRequest);
    this.workersCurrent = true;
    this.layout.write(this.variables, this.weights);
    const loss = done.reduce((s, d) => s + d.loss, local.loss);
    return { loss, gradNorm, stats: local.stats && addStats([local.stats, ...done.map((d) => d.stats as PairStats)]) };
  }

  /** The main thread's share of a step: its job's gradients (pair jobs need the reference). */
  private localGradients(model: TextToImageModel, schedule: NoiseSchedule, job: DenoisingJob | PairJob, reference: Params | undefined): { grads: tf.Tensor[]; loss: number; stats?: PairStats } {
    if (job.kind === 'denoising') return denoisingGradients(model, schedule, this.variables, job);
    if (!reference) throw new Error('ModelPool: pair jobs need the reference parameters');
    return pairGradients(model, reference, schedule, this.variables, job);
  }

  /**
   * The optimizer's state by group, in the trained parameters' order, for checkpoints: the
   * weights and the optimizer's moments (and the EMA). For `shared-adamw` these are views of
   * the shared buffers (no copy): loading fills them in place, then `pullWeights` sets the main
   * thread's variables.
   */
  optimizerState(): VariableGroups {
    // The caller may fill these (loading a state): the workers must load them again.
    this.workersCurrent = false;
    if (this.mainOptimizer) return { weights: byName(this.names, this.variables), ...this.mainOptimizer.stateGroups(this.names) };
    const shared = this.shared;
    if (!shared) throw new Error('ModelPool.optimizerState: start the pool with an optimizer');
    const { layout } = this;
    return { weights: layout.named(this.weights), adamM: layout.named(shared.m), adamV: layout.named(shared.v), ...(shared.ema ? { ema: layout.named(shared.ema) } : {}) };
  }

  /** The EMA of a `shared-adamw` pool started with one: a view of its shared buffer. */
  emaWeights(): NamedWeights {
    if (!this.shared?.ema) throw new Error('ModelPool.emaWeights: start the pool with a shared AdamW and an EMA');
    return this.layout.named(this.shared.ema);
  }

  /** After loading a state into `optimizerState()`: set the main thread's variables from it (and the workers' at their next job). */
  pullWeights(): void {
    this.workersCurrent = false;
    if (this.shared) this.layout.write(this.variables, this.weights);
  }

  private request(k: number, message: WorkerRequest & { id: number }): Promise<unknown> {
    const slot = this.slots[k] as Slot;
    return new Promise((resolve, reject) => {
      slot.pending.set(message.id, { resolve, reject });
      slot.worker.postMessage(message);
    });
  }

  private publishWeights(): void {
    this.workersCurrent = false;
    this.layout.read(this.variables, this.weights);
  }

  private send(k: number, job: WorkerJob): Promise<unknown> {
    return this.request(k, { type: 'job', id: this.nextId++, job, pull: !this.workersCurrent });
  }

  /** Stop the workers (live workers keep Node from exiting). */
  async stop(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.worker.once('exit', () => resolve());
            s.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
            setTimeout(() => void s.worker.terminate(), 2000).unref();
          }),
      ),
    );
    this.slots.length = 0;
    this.mainOptimizer?.dispose();
    this.mainOptimizer = undefined;
  }
}

/** Field-wise sum of pair stats. */
export function addStats(all: readonly PairStats[]): PairStats {
  const out: PairStats = { pairs: 0, modelW: 0, modelL: 0, refW: 0, refL: 0, wins: 0 };
  for (const s of all) for (const k of Object.keys(out) as Array<keyof PairStats>) out[k] += s[k];
  return out;
}

/** A sampling pool over `threads` threads for `model`, or undefined for one thread (sampling runs on the main thread then). */
export async function startPool(model: TextToImageModel, schedule: NoiseSchedule, threads: number): Promise<ModelPool | undefined> {
  if (threads <= 1) return undefined;
  const backend = await initBackend({ quiet: true });
  return ModelPool.start(model, schedule, model.params.names, threads, backend.name);
}

/** Every parameter of `params`, in `params.names` order, in one flat array. */
function flatten(params: Params): Float32Array {
  const variables = params.names.map((n) => params.variable(n));
  const flat = new Float32Array(params.size);
  FlatLayout.of(params.names, variables).read(variables, flat);
  return flat;
}

/** Split n items into `parts` contiguous shares as even as possible: [start, end) pairs. */
export function splitEvenly(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const k = Math.min(parts, n);
  for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
  return out;
}
