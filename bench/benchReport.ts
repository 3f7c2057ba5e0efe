import type { Flag, ParsedArgs } from '../src/util/args.js';
/**
 * Tables and files of bench/trainStep.ts: the measurements as a markdown table (printed, and
 * written to <out>/README.md) and as JSON (<out>/bench.json), with the machine and the command.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/util/atomicWrite.js';

/** One backend's (or PyTorch's) timings of the three workloads; every `ms` is per step / per full sampling run. */
export interface StepTimings {
  /** SFT step: forward + backward + clip + AdamW of text encoder + UNet on `batch` images. */
  sft: { batch: number; ms: number[] };
  /** Self-DPO-shaped step: 2·pairs images through the policy with gradients and through the reference without. */
  dpo: { pairs: number; ms: number[] };
  /** DDIM sampling of `batch` images; ms of a whole `steps`-step run (scaled up from `stepsTimed` steps when fewer). */
  sample: { batch: number; steps: number; stepsTimed: number; guidance: number; ms: number[] };
}

export interface TfjsRun {
  backend: string;
  detail: string;
  warm: number;
  timings: StepTimings;
  /** Tensors left over per step (0 when every step cleans up after itself). */
  tensorGrowth: number;
}

/** The kit's data-parallel paths (ModelPool) with `threads` threads. */
export interface WorkersRun {
  threads: number;
  timings: StepTimings;
  /**
   * 1 thread only: a Self-DPO step of one thread's share of the pairs (pairs / N), the work
   * each of N threads does. N threads taking longer than this is their cost of running side
   * by side: synchronisation, and the cores contending for cache and memory.
   */
  dpoShare?: { pairs: number; ms: number[] };
  /**
   * The process's peak resident memory (MiB) right after each workload. A high-water mark of the
   * whole process (worker threads share it), so each value includes the workloads before it:
   * they run SFT, then sampling, then Self-DPO.
   */
  peakRssMiB?: WorkersPeakRss;
}

export interface WorkersPeakRss {
  sft: number;
  sample: number;
  dpo: number;
}

export interface TorchRun {
  threads: number;
  timings: StepTimings;
}

export interface TorchCheck {
  /** PyTorch's parameter counts, to equal the tfjs model's exactly. */
  parameters: { text: number; unet: number };
  /** Parameter names and shapes (in tfjs layout) that differ between the two, [] when none. */
  shapeMismatches: string[];
  unetFlopsPerImage: number;
  /** Largest |eps_torch - eps_tfjs| over a 2-image forward with the same weights and inputs. */
  maxAbsDiff: number;
  maxAbs: number;
}

export interface BenchRecord {
  date: string;
  command: string;
  quick: boolean;
  machine: {
    cpu: string;
    cores: number;
    node: string;
    tfjs: string;
    tfjsWasm: string;
    wasm: string;
    torch: string | null;
    /** /proc/loadavg at the start and the end: a 1-minute load near 1 or more means a competing process. */
    loadavgStart: string;
    loadavgEnd: string;
    /** Cores' worth of CPU other processes used during each part of the run (null: not measurable). */
    otherProcessesCores: Record<string, number | null>;
  };
  model: {
    source: string;
    config: unknown;
    vocabSize: number;
    parameters: { text: number; unet: number };
    unetFlopsPerImage: number;
  };
  wasm: TfjsRun;
  /** Where `wasm` ran the native OpenBLAS kernels: the same on the XNNPACK (and our wasm) kernels alone. */
  wasmOnly?: TfjsRun;
  /** The same workloads through the trainers' and samplers' own data-parallel paths, 1 and N threads. */
  workers: WorkersRun[];
  /** The cpu backend's run and wasm's at the same shapes (the same object as `wasm` in a full run). */
  cpu: { run: TfjsRun; wasmSameShapes: StepTimings } | { skipped: string };
  torch: { check: TorchCheck | null; runs: TorchRun[] } | { skipped: string };
  summary: Record<string, number | null>;
  notes: string[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** FLOPs each workload does, from the UNet's forward FLOPs per image (text encoder left out). */
export function workloadFlops(t: StepTimings, perImage: number): { sft: number; dpo: number; sample: number } {
  return {
    sft: 3 * perImage * t.sft.batch, // forward + backward ≈ 3 forwards
    dpo: 3 * perImage * 2 * t.dpo.pairs + perImage * 2 * t.dpo.pairs, // policy with gradients + reference forward
    sample: perImage * 2 * t.sample.batch * t.sample.steps, // conditional + unconditional pass per step
  };
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function fmtRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '–';
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}

/** "1203 ms · 11.5 GFLOP/s" (training) or "3.10 img/s · 5161 ms · 28.9 GFLOP/s" (sampling). */
function cells(t: StepTimings, perImage: number): { sft: string; dpo: string; sample: string } {
  const f = workloadFlops(t, perImage);
  const g = (flop: number, ms: number): string => `${(flop / ms / 1e6).toFixed(1)} GFLOP/s`;
  const sft = median(t.sft.ms);
  const dpo = median(t.dpo.ms);
  const smp = median(t.sample.ms);
  return {
    sft: `${fmtMs(sft)} ms · ${g(f.sft, sft)}`,
    dpo: `${fmtMs(dpo)} ms · ${g(f.dpo, dpo)}`,
    sample: `${((t.sample.batch * 1000) / smp).toFixed(2)} img/s · ${fmtMs(smp)} ms · ${g(f.sample, smp)}`,
  };
}

/** a's time over b's, per workload (sampling compared as time per batch: same batch, same steps). */
export function timeRatios(a: StepTimings, b: StepTimings): { sft: number; dpo: number; sample: number } {
  return {
    sft: median(a.sft.ms) / median(b.sft.ms),
    dpo: median(a.dpo.ms) / median(b.dpo.ms),
    sample: median(a.sample.ms) / a.sample.batch / (median(b.sample.ms) / b.sample.batch),
  };
}

function table(header: string[], rows: string[][]): string {
  const line = (cols: string[]): string => `| ${cols.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function rowLabels(t: StepTimings): { sft: string; dpo: string; sample: string } {
  const s = t.sample;
  const scaled = s.stepsTimed < s.steps ? ` (${s.stepsTimed} timed, scaled)` : '';
  return {
    sft: `SFT step, B=${t.sft.batch}`,
    dpo: `Self-DPO step, ${t.dpo.pairs} pairs (${2 * t.dpo.pairs} images)`,
    sample: `DDIM ${s.steps} steps${scaled}, CFG ${s.guidance}, batch ${s.batch}`,
  };
}

/** The result tables and the summary lines, as markdown. */
export function renderTables(r: BenchRecord): string {
  const F = r.model.unetFlopsPerImage;
  const out: string[] = [];
  const w = r.wasm.timings;
  const labels = rowLabels(w);
  const keys = ['sft', 'dpo', 'sample'] as const;

  const torchRuns = 'runs' in r.torch ? r.torch.runs : [];
  const header = ['workload', `tfjs ${r.wasm.backend} (${r.wasm.detail})`];
  for (const t of torchRuns) header.push(`PyTorch ${t.threads} thread${t.threads === 1 ? '' : 's'}`);
  for (const t of torchRuns) header.push(`wasm / PyTorch ${t.threads}t`);
  const only = r.wasmOnly;
  if (only) header.push(`tfjs ${only.backend}, ${only.detail}`, 'native kernels speed-up');
  const wc = cells(w, F);
  const tc = torchRuns.map((t) => cells(t.timings, F));
  const tr = torchRuns.map((t) => timeRatios(w, t.timings));
  const oc = only ? cells(only.timings, F) : undefined;
  const ou = only ? timeRatios(only.timings, w) : undefined;
  out.push(
    table(
      header,
      keys.map((k) => [labels[k], wc[k], ...tc.map((c) => c[k]), ...tr.map((x) => fmtRatio(x[k])), ...(oc && ou ? [oc[k], fmtRatio(ou[k])] : [])]),
    ),
  );
  out.push('');
  if ('skipped' in r.torch) out.push(`PyTorch: skipped (${r.torch.skipped}).`, '');

  if (r.workers.length > 1) {
    const one = r.workers[0] as WorkersRun;
    const rest = r.workers.slice(1);
    const head = ['workload (data parallel, src/parallel)', ...r.workers.map((x) => `${x.threads} thread${x.threads === 1 ? '' : 's'}`), ...rest.map((x) => `speed-up ${x.threads} threads`)];
    for (const t of torchRuns) head.push(`${rest.at(-1)?.threads ?? 1} threads / PyTorch ${t.threads}t`);
    const c = r.workers.map((x) => cells(x.timings, F));
    const up = rest.map((x) => timeRatios(one.timings, x.timings));
    const vsTorch = torchRuns.map((t) => timeRatios((rest.at(-1) as WorkersRun).timings, t.timings));
    out.push(
      table(
        head,
        keys.map((k) => [labels[k], ...c.map((x) => x[k]), ...up.map((x) => fmtRatio(x[k])), ...vsTorch.map((x) => fmtRatio(x[k]))]),
      ),
    );
    out.push('');
    const n = rest.at(-1) as WorkersRun;
    if (one.dpoShare) {
      const share = median(one.dpoShare.ms);
      const full = median(one.timings.dpo.ms);
      const side = median(n.timings.dpo.ms);
      out.push(
        `- Where the ${n.threads}-thread Self-DPO step loses against a perfect ${n.threads}x: one thread's share (${one.dpoShare.pairs} pairs) takes ${share.toFixed(0)} ms on 1 thread alone, ` +
          `while the full ${one.timings.dpo.pairs} pairs take ${full.toFixed(0)} ms, ${fmtRatio(full / share)} as long (${n.threads}x for a perfect split); ${n.threads} threads running their shares side by side take ${side.toFixed(0)} ms, ` +
          `${(side - share).toFixed(0)} ms (${((100 * (side - share)) / share).toFixed(0)}%) more than one share alone: synchronisation and the cores contending for cache and memory.`,
        '',
      );
    }
  }

  if ('run' in r.cpu) {
    const c = r.cpu.run.timings;
    const same = r.cpu.wasmSameShapes;
    const cl = rowLabels(c);
    const cc = cells(c, F);
    const sc = cells(same, F);
    const ratio = timeRatios(c, same);
    out.push(
      table(
        ['workload (cpu run)', 'tfjs wasm', `tfjs cpu (${r.cpu.run.detail})`, 'wasm speed-up over cpu'],
        keys.map((k) => [cl[k], sc[k], cc[k], fmtRatio(ratio[k])]),
      ),
    );
    out.push('');
  } else {
    out.push(`cpu backend: skipped (${r.cpu.skipped}).`, '');
  }

  const s = r.summary;
  out.push(`- Self-DPO step / SFT step on wasm: ${fmtRatio(s['dpoOverSftWasm'] ?? null)} (goal: at most 3x; the FLOPs alone give ${fmtRatio((8 / 3) * (w.dpo.pairs / w.sft.batch))})`);
  if (s['wasmSpeedupOverCpuMin'] !== undefined) out.push(`- wasm speed-up over cpu, smallest of the three: ${fmtRatio(s['wasmSpeedupOverCpuMin'] ?? null)} (goal: at least 20x)`);
  for (const t of torchRuns) {
    const k = `dpoOverSftTorch${t.threads}`;
    if (s[k] !== undefined) out.push(`- Self-DPO step / SFT step in PyTorch, ${t.threads} thread${t.threads === 1 ? '' : 's'}: ${fmtRatio(s[k] ?? null)}`);
  }
  if ('check' in r.torch && r.torch.check) {
    const ch = r.torch.check;
    const p = r.model.parameters;
    out.push(
      `- PyTorch re-implementation: ${ch.parameters.text + ch.parameters.unet} parameters (text ${ch.parameters.text}, UNet ${ch.parameters.unet}) vs tfjs ${p.text + p.unet} (text ${p.text}, UNet ${p.unet})` +
        `${ch.shapeMismatches.length === 0 ? ', every name and shape the same' : `; DIFFERENCES: ${ch.shapeMismatches.slice(0, 5).join('; ')}`}`,
    );
    out.push(
      `- UNet forward FLOPs per image: tfjs ${(F / 1e9).toFixed(4)} G, PyTorch ${(ch.unetFlopsPerImage / 1e9).toFixed(4)} G; same weights and inputs give max |eps difference| ${ch.maxAbsDiff.toExponential(2)} (outputs up to ${ch.maxAbs.toFixed(2)})`,
    );
  }
  return out.join('\n');
}

/** The flags of `npm run bench`, which hands the same ones to both of its parts. */
export const BENCH_FLAGS = [
  { name: 'quick', help: 'fewer repetitions: a smoke run, not a measurement' },
  ...reportFlags('results/bench'),
  { name: 'no-cpu', help: "skip the cpu backend's reference check" },
  { name: 'no-torch', help: 'skip the PyTorch comparison' },
  { name: 'model', value: 'NAME', help: 'the model shapes to measure' },
  { name: 'vocab', value: 'N', help: "the text encoder's vocabulary size" },
  { name: 'python', value: 'PATH', help: 'the python with PyTorch (default: /usr/bin/python3)' },
] as const satisfies readonly Flag[];

/** --out and --force, as every bench that writes a report takes them; `dir` is --out's default. */
export function reportFlags(dir: string) {
  return [
    { name: 'out', value: 'DIR', help: `where the report goes (default: ${dir})` },
    { name: 'force', help: 'replace an earlier report in --out' },
  ] as const satisfies readonly Flag[];
}

/**
 * The report folder (--out, else `dir`), refusing to replace any of `files` there without --force:
 * checked before the long run, not after it.
 */
export function reportDir(args: ParsedArgs<'out' | 'force'>, dir: string, files: readonly string[]): string {
  const out = typeof args.flags.out === 'string' ? args.flags.out : dir;
  for (const f of files) {
    if (existsSync(join(out, f)) && args.flags.force !== true) throw new Error(`${join(out, f)} exists; pass --force to overwrite it, or --out another directory`);
  }
  return out;
}

/** Write <dir>/bench.json and <dir>/README.md (each atomically). */
export function writeResults(dir: string, r: BenchRecord): void {
  writeFileAtomic(join(dir, 'bench.json'), `${JSON.stringify(r, null, 1)}\n`);
  const m = r.machine;
  const cfg = JSON.stringify(r.model.config);
  const readme = [
    '# Training-step and sampling benchmark',
    '',
    r.quick ? '**Quick run (`--quick`): few repetitions, reduced cpu shapes; for checking the bench, not for quoting.**\n' : '',
    `Made by \`${r.command}\` on ${r.date}.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores; Node ${m.node}; tfjs ${m.tfjs} (wasm backend ${m.tfjsWasm}, ${m.wasm}); PyTorch ${m.torch ?? 'not installed'}.`,
    `Load average (1, 5, 15 min) at the start: ${m.loadavgStart}; at the end: ${m.loadavgEnd}.`,
    '',
    `Model: ${r.model.source}; ${(r.model.parameters.unet / 1e6).toFixed(2)}M UNet + ${(r.model.parameters.text / 1e6).toFixed(2)}M text-encoder parameters (vocabulary ${r.model.vocabSize}); ` +
      `${(r.model.unetFlopsPerImage / 1e9).toFixed(3)} GFLOP per UNet forward per image. Config: \`${cfg}\`.`,
    '',
    renderTables(r),
    '',
    'Each convolution kernel alone (built-in, XNNPACK and OpenBLAS, side by side): `kernels.md`, from the first part of the same `npm run bench`.',
    '',
    '## How it is measured',
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'README.md'), readme);
}
