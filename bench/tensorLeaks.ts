/**
 * Tensor and memory leaks (issue 23): `tf.memory().numTensors`, the wasm heap and the process's
 * memory over a long post-training run and over whole evaluations, recorded as curves. A leak of
 * one tensor per step shows as a line rising by 1,000 over 1,000 steps; the wasm heap never
 * shrinks, so it shows whether tfjs's allocator reuses freed blocks or keeps growing.
 *
 *   node --no-liftoff --import tsx bench/tensorLeaks.ts [--steps 1000] [--evals 2] [--prompts curated-val]
 *        [--judges data/judges] [--out results/reliability] [--force]
 *
 * The model is the smoke preset's shape (random weights, the real vocabulary): the leak question is
 * about the code paths (a Self-DPO step with its reference, checkpoints, the held-out probe,
 * sampling, the judges), not the model's size. One thread: the main thread's tfjs holds every tensor.
 * Writes <out>/tensor-leaks.json, .md and the charts tensor-leaks-train.png/.svg and
 * tensor-leaks-eval.png/.svg.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../src/data/emojiConfig.js';
import { EmojiT2I } from '../src/data/emojiDataset.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { loadEvalContext } from '../src/eval/evalContext.js';
import { evaluate } from '../src/eval/evaluate.js';
import { readPromptSet } from '../src/eval/promptSets.js';
import { loadModel, saveModel } from '../src/model/modelFile.js';
import { TextToImageModel } from '../src/model/textToImage.js';
import { lineChartSpec } from '../src/report/lineChart.js';
import { writeChart } from '../src/report/renderChart.js';
import { Tokenizer } from '../src/text/tokenizer.js';
import { emojiTrainData } from '../src/train/emojiTrainData.js';
import { postTrain } from '../src/train/postTrain.js';
import { methodConfig } from '../src/train/postTrainConfig.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../src/train/pretrainConfig.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { reportDir, reportFlags } from './benchReport.js';

/** One reading: where, the tensors tfjs tracks, its bytes, the wasm heap's size, the process's memory. */
interface Reading {
  phase: string;
  at: number;
  numTensors: number;
  tensorBytes: number;
  wasmHeapMB: number;
  rssMB: number;
  jsHeapMB: number;
}

function read(phase: string, at: number): Reading {
  const mem = tf.memory();
  const heap = (tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array };
  const proc = process.memoryUsage();
  return { phase, at, numTensors: mem.numTensors, tensorBytes: mem.numBytes, wasmHeapMB: heap.HEAPU8.buffer.byteLength / 2 ** 20, rssMB: proc.rss / 2 ** 20, jsHeapMB: proc.heapUsed / 2 ** 20 };
}

const MB = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [
    { name: 'steps', value: 'N', help: 'post-training steps measured (default: 1000)' },
    { name: 'evals', value: 'N', help: 'whole evaluations measured (default: 2)' },
    { name: 'prompts', value: 'SET', help: "the evaluations' prompt set (default: curated-val)" },
    { name: 'judges', value: 'DIR', help: 'default: data/judges' },
    ...reportFlags('results/reliability'),
  ]);
  const out = reportDir(args, 'results/reliability', ['tensor-leaks.json', 'tensor-leaks.md']);
  const steps = numberFlag(args, 'steps', 1000);
  const evals = numberFlag(args, 'evals', 2);
  const setName = (args.flags['prompts'] as string | undefined) ?? 'curated-val';
  const backend = await initBackend({ backend: 'wasm', quiet: true });
  if (backend.tfBackend !== 'wasm') throw new Error(`this bench reads the wasm heap; the backend is ${backend.tfBackend}`);
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const data = EmojiT2I.open(dir);
  const tmp = mkdtempSync(join(tmpdir(), 'selfdpo-leaks-'));
  const readings: Reading[] = [read('start', 0)];
  try {
    // A smoke-shaped base with the real vocabulary, as `pretrain --preset smoke` builds it (untrained).
    const pre = resolvePretrainConfig(SMOKE_OVERRIDE);
    const seen = data.manifest.concepts.filter((c) => c.split === 'seen');
    const tokenizer = Tokenizer.fromCaptions(
      seen.map((c) => [c.name, c.subgroup, c.group, ...c.keywords].join(', ')),
      { maxLength: pre.model.maxWords, minCount: pre.tokenizer.minCount },
    );
    const created = TextToImageModel.create(pre.model, tokenizer, 7);
    const base = join(tmp, 'base');
    await saveModel(base, created, makeSchedule(pre.schedule.kind, pre.schedule.steps), { bench: 'tensorLeaks' });
    created.params.dispose();

    // Self-DPO with its frozen reference, a checkpoint and a probe every 100 steps: every path a long run repeats.
    const config = methodConfig('self-dpo', {
      base,
      // The curated set, as the leak measurements have always run (configs/self-dpo.json trains on Emoji-Pick).
      data: { view: 'curated', pairs: '' },
      train: { steps, batchSize: 8, microBatch: 8, seed: 1 },
      log: { every: 100, checkpointEvery: 100, evalEvery: 100, evalPairs: 16 },
    });
    const runDir = join(tmp, 'run');
    readings.push(read('train', 0));
    await postTrain(config, await emojiTrainData(data, config, pre.model.resolution), runDir, {
      quiet: true,
      workers: 1,
      onStep: (r) => {
        if (r.step % 10 === 0) readings.push(read('train', r.step));
      },
    });
    readings.push(read('after training', steps));

    // Whole evaluations of the trained model, each drawing afresh (its own image cache).
    const { model, schedule, file } = loadModel(join(runDir, 'model'));
    const { context, hashes } = loadEvalContext(data, (args.flags['judges'] as string | undefined) ?? join('data', 'judges'));
    const prompts = readPromptSet(setName);
    readings.push(read('eval', 0));
    for (let e = 1; e <= evals; e++) {
      const offset = (e - 1) * prompts.length;
      await evaluate(model, schedule, { dir: join(runDir, 'model'), sha256: file.weightsManifest.sha256 }, setName, prompts, context, hashes, {
        sampling: { steps: 10, guidance: 3 },
        cacheDir: join(tmp, `cache-${e}`),
        // Called once per chunk of images drawn.
        onProgress: (d) => readings.push(read('eval', offset + d)),
      });
      readings.push(read('eval', offset + prompts.length));
    }
    model.params.dispose();
    context.contrastive.params.dispose();
    context.realism.params.dispose();
    readings.push(read('end', 0));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const train = readings.filter((r) => r.phase === 'train');
  const evalRows = readings.filter((r) => r.phase === 'eval');
  const named = (phase: string): Reading => readings.find((r) => r.phase === phase) as Reading;
  const at = (rows: Reading[], x: number): Reading => rows.find((r) => r.at >= x) ?? (rows[rows.length - 1] as Reading);
  const firstT = at(train, 100);
  const lastT = train[train.length - 1] as Reading;
  const promptCount = readPromptSet(setName).length;
  const evalEnds = Array.from({ length: evals }, (_, e) => evalRows.filter((r) => r.at === (e + 1) * promptCount).pop() as Reading);
  const command = `node --no-liftoff --import tsx bench/tensorLeaks.ts ${argv.join(' ')}`.trim();
  const rowOf = (label: string, r: Reading): string => `| ${label} | ${r.numTensors} | ${MB(r.tensorBytes / 2 ** 20)} | ${MB(r.wasmHeapMB)} | ${MB(r.rssMB)} | ${MB(r.jsHeapMB)} |`;
  const md = [
    `# Tensor and memory leaks`,
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}, tfjs ${backend.tfBackend}, 1 thread).`,
    '',
    `Self-DPO post-training of a smoke-shaped model (${steps} steps of 8 pairs, checkpoint and validation probe every 100 steps), then ${evals} whole evaluations of the trained model on ${setName} (${promptCount} prompts each, DPM-Solver++ 10 steps, the judges of \`data/judges\`), back to back in one process.`,
    '',
    '| when | tf numTensors | tensor MB | wasm heap MB | RSS MB | JS heap MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    rowOf('start', named('start')),
    rowOf('training, step 0 (base saved)', train[0] as Reading),
    rowOf(`training, step ${firstT.at}`, firstT),
    rowOf(`training, step ${lastT.at}`, lastT),
    rowOf('training returned', named('after training')),
    rowOf('model and judges loaded', evalRows[0] as Reading),
    ...evalEnds.map((r, i) => rowOf(`after evaluation ${i + 1}`, r)),
    rowOf('model and judges disposed', named('end')),
    '',
    `Training: numTensors from step ${firstT.at} to ${lastT.at}: ${firstT.numTensors} -> ${lastT.numTensors} (over steps 10-${lastT.at}: min ${Math.min(...train.slice(1).map((r) => r.numTensors))}, max ${Math.max(...train.slice(1).map((r) => r.numTensors))}); wasm heap ${MB(firstT.wasmHeapMB)} -> ${MB(lastT.wasmHeapMB)} MB; RSS ${MB(firstT.rssMB)} -> ${MB(lastT.rssMB)} MB.`,
    `Evaluations: numTensors at the end of each: ${evalEnds.map((r) => r.numTensors).join(', ')}; wasm heap ${evalEnds.map((r) => MB(r.wasmHeapMB)).join(', ')} MB; RSS ${evalEnds.map((r) => MB(r.rssMB)).join(', ')} MB.`,
    '',
    'Charts: `tensor-leaks-train.png` and `tensor-leaks-eval.png` (numTensors, the wasm heap and RSS against step or image). Every reading: `tensor-leaks.json`.',
    '',
  ].join('\n');
  const long = (rows: Reading[]): Array<Record<string, number | string>> =>
    rows.flatMap((r) => [
      { x: r.at, value: r.numTensors, series: 'tf numTensors' },
      { x: r.at, value: r.wasmHeapMB, series: 'wasm heap (MB)' },
      { x: r.at, value: r.rssMB, series: 'process RSS (MB)' },
    ]);
  await writeChart(
    lineChartSpec(long(train), { x: 'x', y: 'value', color: 'series', title: `Self-DPO post-training, ${steps} steps: tensors and memory`, xTitle: 'step', yTitle: 'count / MB', yZero: true }),
    join(out, 'tensor-leaks-train'),
  );
  await writeChart(
    lineChartSpec(long(evalRows), {
      x: 'x',
      y: 'value',
      color: 'series',
      title: `${evals} evaluations on ${setName}: tensors and memory`,
      xTitle: 'images drawn (evaluations back to back)',
      yTitle: 'count / MB',
      yZero: true,
    }),
    join(out, 'tensor-leaks-eval'),
  );
  writeFileAtomic(join(out, 'tensor-leaks.json'), `${JSON.stringify({ command, steps, evals, promptSet: setName, readings }, null, 1)}\n`);
  writeFileAtomic(join(out, 'tensor-leaks.md'), md);
  process.stdout.write(md);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
