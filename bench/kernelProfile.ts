/**
 * Where one training step's time goes, kernel by kernel: every tfjs kernel of the active
 * backend is wrapped with a timer (kernels run synchronously on wasm, so wall time is the
 * kernel's time), one Self-DPO step (pairGradients, the Eq. 9 loss, 8 pairs: one thread's share
 * of a 16-pair 2-thread step) and one SFT step's gradients are run on the main thread, and the
 * time is split by kernel type. What the kernels leave over is JavaScript: tape bookkeeping,
 * op dispatch, tensor allocation.
 *
 *   node --no-liftoff --import tsx bench/kernelProfile.ts [--base base-s|base-l] [--reps N] [--out DIR] [--force]
 *
 * Writes `DIR/kernel-profile-<base>.md` and `.json` (default DIR results/bench).
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { nativeKernelsStatus } from '../src/kernels/index.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { denoisingGradients } from '../src/parallel/denoisingGradients.js';
import { pairGradients } from '../src/parallel/pairGradients.js';
import { BASE_S } from '../src/train/pretrainConfig.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { Rng } from '../src/util/rng.js';
import { reportDir, reportFlags } from './benchReport.js';
import { benchModel, selfDpoPairJob, sftJob } from './workloads.js';

interface KernelTotals {
  ms: number;
  calls: number;
}

/** Kernel name -> time spent in it (outermost kernels only: a kernel that dispatches others is counted once). */
class KernelClock {
  readonly totals = new Map<string, KernelTotals>();
  private depth = 0;

  /** Re-registers every kernel of `backend` with a timer around it; with `byShape`, each input-shape combination apart. */
  install(backend: string, byShape: boolean): void {
    for (const config of tf.getKernelsForBackend(backend)) {
      const inner = config.kernelFunc;
      tf.unregisterKernel(config.kernelName, backend);
      tf.registerKernel({
        ...config,
        kernelFunc: (args) => {
          this.depth++;
          const t0 = performance.now();
          try {
            return inner(args);
          } finally {
            const ms = performance.now() - t0;
            this.depth--;
            if (this.depth === 0) {
              const key = byShape
                ? `${config.kernelName} ${Object.values(args.inputs)
                    .map((x) => `[${String(x?.shape)}]`)
                    .join(' ')} ${JSON.stringify(args.attrs ?? {})}`
                : config.kernelName;
              const t = this.totals.get(key) ?? { ms: 0, calls: 0 };
              t.ms += ms;
              t.calls++;
              this.totals.set(key, t);
            }
          }
        },
      });
    }
  }

  reset(): void {
    this.totals.clear();
  }
}

interface StepProfile {
  workload: string;
  stepMs: number;
  kernels: Array<{ kernel: string; ms: number; calls: number; share: number }>;
  outsideMs: number;
}

function profileOf(workload: string, clock: KernelClock, stepMs: number, reps: number): StepProfile {
  const kernels = [...clock.totals.entries()].map(([kernel, t]) => ({ kernel, ms: t.ms / reps, calls: t.calls / reps, share: t.ms / reps / stepMs })).sort((a, b) => b.ms - a.ms);
  const inKernels = kernels.reduce((s, k) => s + k.ms, 0);
  return { workload, stepMs, kernels, outsideMs: stepMs - inKernels };
}

function table(p: StepProfile): string {
  const rows = p.kernels.filter((k) => k.share >= 0.005);
  const rest = p.kernels.filter((k) => k.share < 0.005);
  const lines = [
    `### ${p.workload}: ${p.stepMs.toFixed(0)} ms per step`,
    '',
    '| kernel | ms per step | calls per step | share of the step |',
    '| --- | --- | --- | --- |',
    ...rows.map((k) => `| ${k.kernel} | ${k.ms.toFixed(1)} | ${k.calls.toFixed(0)} | ${(100 * k.share).toFixed(1)}% |`),
    `| ${rest.length} other kernels | ${rest.reduce((s, k) => s + k.ms, 0).toFixed(1)} | ${rest.reduce((s, k) => s + k.calls, 0).toFixed(0)} | ${(100 * rest.reduce((s, k) => s + k.share, 0)).toFixed(1)}% |`,
    `| outside kernels (JavaScript: tape, dispatch, allocation) | ${p.outsideMs.toFixed(1)} | | ${((100 * p.outsideMs) / p.stepMs).toFixed(1)}% |`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), [
    { name: 'base', value: 'NAME', help: 'base-s or base-l shapes (default: base-s)' },
    { name: 'reps', value: 'N', help: 'measured repetitions (default: 3)' },
    ...reportFlags('results/bench'),
    { name: 'by-shape', help: 'also break each kernel down by its shapes' },
  ]);
  const base = (args.flags['base'] as string | undefined) ?? 'base-s';
  const reps = numberFlag(args, 'reps', 3);
  if (base !== 'base-s' && base !== 'base-l') throw new Error(`--base: base-s or base-l, not ${base}`);
  const name = `kernel-profile-${base}`;
  const file = join(reportDir(args, 'results/bench', [`${name}.md`, `${name}.json`]), name);

  await initBackend({ backend: 'wasm' });
  const { model, source } = benchModel(base);
  const schedule = makeSchedule(BASE_S.schedule.kind, BASE_S.schedule.steps);
  const rng = new Rng(1);
  const clock = new KernelClock();
  clock.install('wasm', args.flags['by-shape'] === true);

  const P = 8;
  const pairJob = selfDpoPairJob(model, P, rng);
  // One micro-batch of a thread's share: base-L pretrains 64 images as 2 threads x 32.
  const B = base === 'base-s' ? 8 : 32;
  const sft = { ...sftJob(model, B, rng), microBatch: B };
  const reference = model.params.clone(false);
  const unet = model.params.names.filter((n) => n.startsWith('unet/')).map((n) => model.params.variable(n));
  const all = model.params.names.map((n) => model.params.variable(n));

  const run = (workload: string, step: () => void): StepProfile => {
    step(); // warm-up
    clock.reset();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) step();
    const profile = profileOf(workload, clock, (performance.now() - t0) / reps, reps);
    console.log(table(profile));
    return profile;
  };
  const profiles = [
    run(`Self-DPO gradients, ${P} pairs (one thread's share of a 16-pair step)`, () => tf.dispose(pairGradients(model, reference, schedule, unet, pairJob).grads)),
    run(`SFT gradients, ${B} images (one thread's share of a pretraining step)`, () => tf.dispose(denoisingGradients(model, schedule, all, sft).grads)),
  ];
  const header = [
    `# Kernel profile, ${base}`,
    '',
    `Made by \`node --no-liftoff --import tsx bench/kernelProfile.ts ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString()}; model: ${source}.`,
    '',
    `Backend: tfjs wasm, 1 thread (the main thread; a 2-thread step runs two of these side by side); ${nativeKernelsStatus()}. Means over ${reps} steps after one warm-up step. Every kernel is timed where tfjs dispatches it; a kernel that dispatches others counts once.`,
    '',
  ];
  writeFileAtomic(`${file}.md`, [...header, ...profiles.map(table).flatMap((t) => [t, ''])].join('\n'));
  writeFileAtomic(`${file}.json`, `${JSON.stringify({ base, source, reps, profiles }, null, 1)}\n`);
  console.log(`wrote ${file}.md`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
