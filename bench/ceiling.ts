/**
 * The kit's training and sampling against the machine's own limit, in one run: the sgemm
 * ceiling (sgemmCeiling.ts) on 1 and 2 threads, then base-S's and base-L's SFT step, Self-DPO
 * step and DDIM sampling through the data-parallel paths on 2 threads (workloads.ts), each
 * as GFLOP/s and as a share of the same run's 2-thread ceiling, with the process's peak memory.
 *
 *   node --no-liftoff --import tsx bench/ceiling.ts [--quick] [--out DIR] [--force]
 *
 * Writes `DIR/ceiling.md` and `ceiling.json` (default DIR results/bench). Each base is its shipped
 * checkpoint, or a fresh model of its preset while there is none (`benchModel`).
 */
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { initBackend } from '../src/backend.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { BASE_S } from '../src/train/pretrainConfig.js';
import { parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { BENCH_FLAGS, reportDir, median, workloadFlops, type StepTimings, type WorkersPeakRss } from './benchReport.js';
import { cpuModel, cpuSample, otherCores } from './machineLoad.js';
import { measureSgemmCeiling, type SgemmCeiling } from './sgemmCeiling.js';
import { benchModel, FULL, log, measureWorkers, type Reps } from './workloads.js';

interface BaseRun {
  base: string;
  /** The 2-thread sgemm ceiling measured just before and just after this base's workloads (GFLOP/s): the machine's speed drifts by 10-20% over minutes here, so each base is compared with its own. */
  ceiling: [number, number];
  source: string;
  unetFlopsPerImage: number;
  threads: number;
  timings: StepTimings;
  /** After each of this base's workloads (base-S's ran first, so base-L's include them). */
  peakRssMiB: WorkersPeakRss;
  otherCores: number | null;
}

function shareRow(name: string, ms: number[], flop: number, ceiling: number, peakRssMiB: number, extra = ''): string {
  const m = median(ms);
  const gflops = flop / m / 1e6;
  return `| ${name} | ${m.toFixed(0)} ms${extra} | ${gflops.toFixed(1)} | ${((100 * gflops) / ceiling).toFixed(1)}% | ${peakRssMiB.toFixed(0)} |`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // `npm run bench` passes the same flags to every bench: those of trainStep.ts alone are accepted and ignored.
  const args = parseArgs(argv, BENCH_FLAGS);
  const quick = args.flags['quick'] === true;
  const out = reportDir(args, 'results/bench', ['ceiling.md', 'ceiling.json']);
  const file = join(out, 'ceiling');
  const threads = Math.min(2, cpus().length);
  const reps: Reps = quick ? { warm: 1, sft: 2, dpo: 2, sample: 1 } : { warm: 3, sft: 10, dpo: 15, sample: 3 };
  const shapes = quick ? { ...FULL, sampleStepsTimed: 3 } : FULL;

  log('sgemm ceiling:');
  const ceiling: SgemmCeiling = await measureSgemmCeiling([1, threads], quick ? 1024 : 2048);
  for (const [t, g] of Object.entries(ceiling.gflops)) log(`  ${t} thread(s): ${g.toFixed(1)} GFLOP/s`);
  let before = ceiling.gflops[threads] as number;

  const backend = await initBackend({ backend: 'wasm', quiet: true });
  const bases = [
    { base: 'base-S', key: 'base-s' as const },
    { base: 'base-L', key: 'base-l' as const },
  ];
  const runs: BaseRun[] = [];
  for (const b of bases) {
    log(`${b.base}, ${threads} threads:`);
    const { model, source } = benchModel(b.key);
    const schedule = makeSchedule(BASE_S.schedule.kind, BASE_S.schedule.steps);
    const probe = cpuSample();
    const { timings, peakRssMiB } = await measureWorkers(model, schedule, shapes, reps, threads, 3);
    const after = (await measureSgemmCeiling([threads], ceiling.size)).gflops[threads] as number;
    log(`  ceiling before ${before.toFixed(1)}, after ${after.toFixed(1)} GFLOP/s`);
    runs.push({
      base: b.base,
      ceiling: [before, after],
      source,
      unetFlopsPerImage: model.unetFlopsPerImage(),
      threads,
      timings,
      peakRssMiB,
      otherCores: otherCores(probe, cpuSample()),
    });
    model.params.dispose();
    before = after;
  }

  const command = `node --no-liftoff --import tsx ${relative(process.cwd(), __filename)} ${argv.join(' ')}`.trim();
  const lines = [
    '# Training and sampling against the machine’s sgemm ceiling',
    '',
    `Made by \`${command}\` on ${new Date().toISOString()}${quick ? ' (QUICK: few repetitions, for checking the bench, not for quoting)' : ''}.`,
    '',
    `Machine: ${cpuModel()}, ${cpus().length} cores; Node ${process.version}; ${backend.detail}; OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'}, OPENBLAS_L2_SIZE=${process.env['OPENBLAS_L2_SIZE'] ?? '(unset)'}.`,
    '',
    `Ceiling: sgemm ${ceiling.size}x${ceiling.size} through the kit's own OpenBLAS (${ceiling.blas}), every thread multiplying its own matrices at once: ${Object.entries(ceiling.gflops)
      .map(([t, g]) => `${g.toFixed(1)} GFLOP/s on ${t} thread${t === '1' ? '' : 's'}`)
      .join(', ')} at the start; measured again after each base, because this machine's speed drifts (the same 2-thread Self-DPO step of base-S took 396 ms and, minutes later, 459 ms).`,
    '',
  ];
  for (const r of runs) {
    const f = workloadFlops(r.timings, r.unetFlopsPerImage);
    const t = r.timings;
    const top = (r.ceiling[0] + r.ceiling[1]) / 2;
    lines.push(
      `## ${r.base} (${r.source}; ${(r.unetFlopsPerImage / 1e9).toFixed(3)} GFLOP per UNet forward per image), ${r.threads} threads`,
      '',
      `The ${r.threads}-thread ceiling around these workloads: ${r.ceiling[0].toFixed(1)} GFLOP/s before, ${r.ceiling[1].toFixed(1)} after; shares are of their mean, ${top.toFixed(1)}.`,
      '',
      `| workload | median time | GFLOP/s | share of the ${r.threads}-thread ceiling | process peak memory after it, MiB |`,
      '| --- | ---: | ---: | ---: | ---: |',
      shareRow(`SFT step, ${t.sft.batch} images`, t.sft.ms, f.sft, top, r.peakRssMiB.sft),
      shareRow(`Self-DPO step, ${t.dpo.pairs} pairs`, t.dpo.ms, f.dpo, top, r.peakRssMiB.dpo),
      shareRow(
        `DDIM ${t.sample.steps} steps, guidance ${t.sample.guidance}, ${t.sample.batch} images`,
        t.sample.ms,
        f.sample,
        top,
        r.peakRssMiB.sample,
        ` (${((t.sample.batch * 1000) / median(t.sample.ms)).toFixed(2)} img/s)`,
      ),
      '',
      `Peak memory is the process's resident-set high-water mark (worker threads included) right after each workload; the workloads ran SFT, then sampling, then Self-DPO (base-S's before base-L's), so each includes those before it. Other processes' CPU use meanwhile: ${r.otherCores === null ? '?' : r.otherCores.toFixed(2)} cores${r.otherCores !== null && r.otherCores > 0.2 ? ' (DISTURBED: not representative)' : ''}.`,
      '',
    );
  }
  lines.push(
    "How: each workload as the trainers and samplers run it (bench/workloads.ts, ModelPool over the threads; the optimizer's AdamW on shared buffers), medians after warm-up steps. FLOPs are the UNet's (matmuls and convolutions, 2 per multiply-add): a training pass counts 3 forwards, a Self-DPO step 3 for the policy and 1 for the reference per image, sampling 2 passes per image per step.",
    '',
  );
  const md = lines.join('\n');
  writeFileAtomic(`${file}.md`, md);
  writeFileAtomic(`${file}.json`, `${JSON.stringify({ command, date: new Date().toISOString(), quick, ceiling, runs }, null, 1)}\n`);
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
