/**
 * The machine's own limit for the kit's arithmetic: single-precision matrix products of a large
 * square size through the same OpenBLAS the native kernels call (its batchMatMul with a batch
 * of 1), on 1 thread and on several side by side, each thread on its own matrices, as the
 * kit's data-parallel workers run. Workloads are reported as a share of this ceiling.
 *
 *   node --no-liftoff --import tsx bench/sgemmCeiling.ts [--size N] [--threads 1,2]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadNativeAddon, shortDescription } from '../src/kernels/nativeAddon.js';
import { numberFlag, parseArgs } from '../src/util/args.js';

export interface SgemmCeiling {
  /** "OpenBLAS 0.3.21, core Haswell". */
  blas: string;
  size: number;
  /** GFLOP/s of all threads together, by thread count (median of the repetitions). */
  gflops: Record<number, number>;
}

interface WorkerJob {
  size: number;
  reps: number;
  start: SharedArrayBuffer;
}

/** One thread's sgemm rate: `reps` products of two size x size matrices after one warm-up, median seconds per product. */
function productSeconds(size: number, reps: number, waitFor?: Int32Array): number[] {
  const addon = loadNativeAddon();
  if (typeof addon === 'string') throw new Error(`the sgemm ceiling needs the native addon: ${addon}`);
  const n = size * size;
  const heap = new ArrayBuffer(3 * n * 4);
  const floats = new Float32Array(heap);
  for (let i = 0; i < 2 * n; i++) floats[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  const params = Float64Array.from([1, size, size, size, 0, 0, 0, n, 4 * n, n, 8 * n]);
  addon.batchMatMul(heap, params);
  if (waitFor) {
    Atomics.add(waitFor, 0, 1);
    while (Atomics.load(waitFor, 0) < Atomics.load(waitFor, 1)) Atomics.wait(waitFor, 0, Atomics.load(waitFor, 0), 5);
  }
  const seconds: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    addon.batchMatMul(heap, params);
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** The ceiling on 1..max(threads) threads: every thread multiplies its own matrices at once, started together. */
export async function measureSgemmCeiling(threads: readonly number[] = [1, 2], size = 2048, reps = 7): Promise<SgemmCeiling> {
  const addon = loadNativeAddon();
  if (typeof addon === 'string') throw new Error(`the sgemm ceiling needs the native addon: ${addon}`);
  const flop = 2 * size ** 3;
  const gflops: Record<number, number> = {};
  for (const t of threads) {
    const start = new Int32Array(new SharedArrayBuffer(8));
    start[1] = t;
    const runs = await Promise.all(
      Array.from(
        { length: t },
        () =>
          new Promise<number[]>((resolve, reject) => {
            const w = new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)});`, {
              eval: true,
              workerData: { size, reps, start: start.buffer } satisfies WorkerJob,
            });
            w.once('message', (s: number[]) => {
              resolve(s);
              void w.terminate();
            });
            w.once('error', reject);
          }),
      ),
    );
    gflops[t] = runs.reduce((sum, s) => sum + flop / median(s) / 1e9, 0);
  }
  return { blas: shortDescription(addon), size, gflops };
}

if (!isMainThread && parentPort) {
  const job = workerData as WorkerJob;
  parentPort.postMessage(productSeconds(job.size, job.reps, new Int32Array(job.start)));
} else if (require.main === module) {
  const args = parseArgs(process.argv.slice(2), [
    { name: 'size', value: 'N', help: 'the square matrices (default: 2048)' },
    { name: 'threads', value: 'N', help: 'threads, each on its own matrices' },
  ]);
  const threads = ((args.flags['threads'] as string | undefined) ?? '1,2').split(',').map(Number);
  void measureSgemmCeiling(threads, numberFlag(args, 'size', 2048)).then((c) => {
    for (const [t, g] of Object.entries(c.gflops)) console.log(`sgemm ${c.size}x${c.size}, ${c.blas}, ${t} thread(s): ${g.toFixed(1)} GFLOP/s`);
  });
}
