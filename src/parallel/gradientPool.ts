import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { denoisingGradients } from './denoisingGradients.js';
import type { DenoisingJob, WorkerReply, WorkerRequest, WorkerSetup } from './protocol.js';

/** Workers to use by default: one per core on the CPU backends (wasm runs one thread per instance). */
export function defaultWorkerCount(backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? availableParallelism() : 1;
}

interface Slot {
  worker: Worker;
  grads: Float32Array;
  pending: Map<number, { resolve: (loss: number) => void; reject: (err: Error) => void }>;
}

/**
 * Data-parallel gradients over worker_threads: the main thread and each worker hold their own
 * tfjs instance and copy of the model. For a step the main thread publishes its weights in a
 * SharedArrayBuffer, every thread computes the gradients of its share of the batch, and the
 * main thread adds them up (in a fixed order) and applies the update itself. The sum equals
 * the single-thread gradient up to float rounding; the wasm backend uses one core per
 * instance, so this is how a run uses them all.
 */
export class GradientPool {
  private nextId = 0;

  private constructor(
    private readonly slots: Slot[],
    private readonly weights: Float32Array,
    private readonly variables: tf.Variable[],
  ) {}

  /** Threads in all, the main thread included. */
  get size(): number {
    return this.slots.length + 1;
  }

  /** Start `threads - 1` workers holding copies of `model` (whose `variables` are trained). */
  static async start(model: TextToImageModel, schedule: NoiseSchedule, names: string[], threads: number, backend: BackendName): Promise<GradientPool> {
    const variables = names.map((n) => model.params.variable(n));
    const total = variables.reduce((s, v) => s + v.size, 0);
    const weightsBuf = new SharedArrayBuffer(total * 4);
    // The worker is a sibling file: .ts when run through tsx (tests), .js from dist/.
    const file = join(__dirname, `gradientWorker${extname(__filename)}`);
    const slots: Slot[] = [];
    const pool = new GradientPool(slots, new Float32Array(weightsBuf), variables);
    try {
      for (let i = 1; i < threads; i++) {
        const gradsBuf = new SharedArrayBuffer(total * 4);
        const setup: WorkerSetup = {
          backend,
          model: model.config,
          tokenizer: model.tokenizer.toJSON(),
          schedule: { kind: schedule.kind, steps: schedule.steps },
          names,
          weights: weightsBuf,
          grads: gradsBuf,
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
          if (m.type === 'done') slot.pending.get(m.id)?.resolve(m.loss);
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
   * losses, and that sum. jobs[0] runs on the main thread, jobs[k] on worker k; give at most
   * `size` jobs.
   */
  async gradients(model: TextToImageModel, schedule: NoiseSchedule, jobs: DenoisingJob[]): Promise<{ grads: tf.Tensor[]; loss: number }> {
    if (jobs.length === 0 || jobs.length > this.size) throw new Error(`GradientPool: ${jobs.length} jobs for ${this.size} threads`);
    let offset = 0;
    for (const v of this.variables) {
      this.weights.set(v.dataSync() as Float32Array, offset);
      offset += v.size;
    }
    const remote = jobs.slice(1).map((job, k) => {
      const slot = this.slots[k] as Slot;
      const id = this.nextId++;
      return new Promise<number>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ type: 'job', id, job } satisfies WorkerRequest);
      });
    });
    const local = denoisingGradients(model, schedule, this.variables, jobs[0] as DenoisingJob);
    const losses = await Promise.all(remote);
    if (remote.length === 0) return local;
    const grads = local.grads.map((g, i) => {
      const sum = Float32Array.from(g.dataSync() as Float32Array);
      let start = 0;
      for (let j = 0; j < i; j++) start += (this.variables[j] as tf.Variable).size;
      for (let k = 0; k < remote.length; k++) {
        const part = (this.slots[k] as Slot).grads.subarray(start, start + sum.length);
        for (let e = 0; e < sum.length; e++) sum[e] = (sum[e] as number) + (part[e] as number);
      }
      return tf.tensor(sum, g.shape);
    });
    tf.dispose(local.grads);
    return { grads, loss: losses.reduce((s, l) => s + l, local.loss) };
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
  }
}

/** Split n items into `parts` contiguous shares as even as possible: [start, end) pairs. */
export function splitEvenly(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const k = Math.min(parts, n);
  for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
  return out;
}
