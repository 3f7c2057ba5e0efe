/**
 * A/B helper (issue 22): base-L's (or base-S's) 2-thread Self-DPO step of 16 pairs as ceiling.ts runs it
 * (ModelPool.trainStep, shared AdamW), with one thread's 8-pair gradients alone and the 2-thread
 * step's phases: the main thread's gradients, the wait for the worker, the reduce + AdamW.
 *   node --no-liftoff --import tsx bench/abDpo.ts base-l [reps]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { ModelPool, splitEvenly } from '../src/parallel/modelPool.js';
import { pairGradients } from '../src/parallel/pairGradients.js';
import type { PairJob } from '../src/parallel/protocol.js';
import { BASE_S } from '../src/train/pretrainConfig.js';
import { Rng } from '../src/util/rng.js';
import { BENCH_ADAM, CLIP, LR, benchModel, selfDpoPairJob, shareOf } from './workloads.js';

async function main(): Promise<void> {
  const base = (process.argv[2] ?? 'base-l') as 'base-s' | 'base-l';
  const reps = Number(process.argv[3] ?? 8);
  await initBackend({ backend: 'wasm', quiet: true });
  const { model } = benchModel(base);
  const schedule = makeSchedule(BASE_S.schedule.kind, BASE_S.schedule.steps);
  const rng = new Rng(3);
  const per = model.config.resolution ** 2 * 3;
  const unet = model.params.names.filter((n) => n.startsWith('unet/'));
  const reference = model.params.clone(false);
  const P = 16;
  const pair = selfDpoPairJob(model, P, rng);
  const jobs = splitEvenly(P, 2).map((share): PairJob => ({
    ...pair,
    winners: shareOf(pair.winners, share, per),
    losers: shareOf(pair.losers, share, per),
    eps: shareOf(pair.eps, share, per),
    t: pair.t.slice(...share),
    captions: pair.captions.slice(...share),
  }));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  // One thread's gradients alone.
  const vars = unet.map((n) => model.params.variable(n));
  const alone: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    tf.dispose(pairGradients(model, reference, schedule, vars, jobs[0] as PairJob).grads);
    if (i >= 2) alone.push(performance.now() - t0);
  }
  const pool = await ModelPool.start(model, schedule, unet, 2, 'wasm', reference, { kind: 'shared-adamw', adam: BENCH_ADAM, ema: false });
  const step: number[] = [];
  for (let i = 0; i < reps + 3; i++) {
    const t0 = performance.now();
    await pool.trainStep(model, schedule, jobs, reference, { lr: LR, clipNorm: CLIP });
    if (i >= 3) step.push(performance.now() - t0);
  }
  await pool.stop();
  const flops = 8 * P * (base === 'base-l' ? 0.832 : 0.288);
  console.log(
    `RESULT ${process.cwd()} ${base} step2t ${median(step).toFixed(0)} ms (${((flops / median(step)) * 1000).toFixed(1)} GFLOP/s) [${step.map((x) => x.toFixed(0)).join(' ')}] | alone8 ${median(alone).toFixed(0)} ms [${alone.map((x) => x.toFixed(0)).join(' ')}]`,
  );
}
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
