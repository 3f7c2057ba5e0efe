import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { readPickShardRows } from '../data/pickapic.js';
import { samplerLabel } from '../model/generate.js';
import { decodeImageToRgb } from '../data/preferencePairs.js';
import { renderImageSheet } from '../report/imageSheet.js';
import { formatDuration } from '../runs/progress.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { annotatorNoise } from './annotatorNoise.js';
import type { PickBuildRecord, PickShardRecord } from './buildEmojiPick.js';

/** A generator's strength, measured under the evaluation judges on a fixed prompt set. */
export interface GeneratorStrength {
  name: string;
  r5: number;
  real: number;
  align: number;
  prompts: number;
  promptSet: string;
  sampling: string;
}

/**
 * The dataset card (README.md) and a sheet of validation pairs with their labels (pairs.png):
 * the pool and its measured strength, prompts, label and tie rates, what each generator won,
 * and what the build cost (the price of preference data that Self-DPO does without).
 */
export async function writeEmojiPickCard(
  outDir: string,
  record: PickBuildRecord,
  measured: { strength: readonly GeneratorStrength[]; judges: { contrastive: string; realism: string }; noise?: Awaited<ReturnType<typeof annotatorNoise>> },
  resolution: number,
): Promise<void> {
  const { strength, noise } = measured;
  const c = record.config;
  const sum = (shards: readonly PickShardRecord[], f: (s: PickShardRecord) => number): number => shards.reduce((a, s) => a + f(s), 0);
  const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '–');
  const splitRows = (['train', 'validation'] as const).map((split) => {
    const shards = record.shards.filter((s) => s.split === split);
    const pairs = sum(shards, (s) => s.pairs);
    const ties = sum(shards, (s) => s.ties);
    return `| ${split} | ${pairs} | ${shards.length} | ${pct(ties, pairs)} | ${pct(
      sum(shards, (s) => s.zeroWins),
      pairs - ties,
    )} |`;
  });
  const generatorRows = c.generators.map((g) => {
    const n = (f: (x: PickShardRecord['byGenerator'][string]) => number): number =>
      sum(record.shards, (s) => (s.byGenerator[g.name] ? f(s.byGenerator[g.name] as PickShardRecord['byGenerator'][string]) : 0));
    const images = n((x) => x.images);
    const won = n((x) => x.won);
    const lost = n((x) => x.lost);
    const m = strength.find((s) => s.name === g.name);
    const measured = m ? `${m.r5.toFixed(1)} | ${m.real.toFixed(1)} | ${m.align.toFixed(1)}` : '– | – | –';
    return `| ${g.name} | \`${g.model}\` (${record.inputs.generators[g.name]?.slice(0, 12)}) | ${measured} | ${images} | ${pct(won, won + lost)} | ${pct(
      n((x) => x.tied),
      images,
    )} |`;
  });
  const seconds = { sampling: sum(record.shards, (s) => s.seconds.sampling), scoring: sum(record.shards, (s) => s.seconds.scoring), writing: sum(record.shards, (s) => s.seconds.writing) };
  const total = seconds.sampling + seconds.scoring + seconds.writing;
  const pairs = sum(record.shards, (s) => s.pairs);
  const m = strength[0];
  const lines = [
    '# Emoji-Pick',
    '',
    'Emoji-T2I\'s analog of Pick-a-Pic v2 (docs/PROTOCOL.md, "Emoji-Pick"): for each prompt, a training-style caption of a seen concept',
    '(never an evaluation prompt string), two images drawn by a pool of generators of different strength with varied',
    "sampling settings, and the annotator judge's preference. Stored as Parquet shards in Pick-a-Pic v2's schema",
    "(its 19 columns, names and types); `image_k_url` records each image's generator, sampler steps, guidance and seed as",
    '`selfdpo://<generator>?steps=..&guidance=..&seed=..`. Diffusion-DPO trains on the untied train pairs; SFT and Self-DPO on',
    'their winners and captions; each is probed on the validation split (`npm run post-train -- --pairs ' + outDir + '`).',
    '',
    '| split | pairs (one distinct prompt each) | shards | ties | image 0 wins (untied) |',
    '| --- | --- | --- | --- | --- |',
    ...splitRows,
    '',
    `## The pool`,
    '',
    m
      ? `Strength under the evaluation judges: ${m.promptSet}, ${m.prompts} prompts, ${m.sampling}. R@5 is the share of images whose concept ranks in the top 5 of all concepts; Real is 100·P(real) under the realism judge (judges: eval ${measured.judges.contrastive.slice(0, 12)}, realism ${measured.judges.realism.slice(0, 12)}).`
      : 'Strength not measured in this build.',
    '',
    '| generator | model (weights) | R@5 % | Real | Align | images drawn | wins (untied) | ties |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...generatorRows,
    '',
    `Each image's generator is drawn uniformly; ${samplerLabel(c.settings.sampler)} steps from {${c.settings.steps.join(', ')}} and guidance from {${c.settings.guidance.join(', ')}}, each uniformly.`,
    '',
    '## Labels',
    '',
    `The annotator judge (\`${c.annotator}\`, ${record.inputs.annotator.slice(0, 12)}) scores each image by Align (100·cosine of image and caption);`,
    `the higher wins, and two scores within ${c.tieMargin} Align points tie (label 0.5/0.5, as Pick-a-Pic records ties; Diffusion-DPO's code drops them).`,
    ...(noise
      ? [
          `For scale, the annotator's |change| in Align when a picture does not change for a person (${noise.images} held-out real images of the validation set):`,
          `shifted by one pixel, median ${noise.shift.median.toFixed(2)} and 95th percentile ${noise.shift.p95.toFixed(2)}; through the JPEG round trip the shards store, median ${noise.jpeg.median.toFixed(2)} and 95th percentile ${noise.jpeg.p95.toFixed(2)}.`,
        ]
      : []),
    '',
    '## Cost',
    '',
    `${pairs} pairs (${2 * pairs} images) in ${formatDuration(total)}: sampling ${formatDuration(seconds.sampling)}, annotating ${formatDuration(seconds.scoring)}, encoding and writing ${formatDuration(seconds.writing)};`,
    `${total > 0 ? ((3600 * pairs) / total).toFixed(0) : '–'} pairs per hour on ${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'}.`,
    '',
    '## Made by',
    '',
    ...(record.commands.length > 1
      ? ['One line per invocation: each later one resumed the build where the one before stopped or, once it was complete, measured the pool again and rewrote this card.', '']
      : []),
    ...record.commands.map((cmd) => `    ${cmd}`),
    '',
    '`pairs.png`: the first validation pairs: image 0 and image 1 with the label, the generator and the setting of each.',
    '',
  ];
  writeFileAtomic(join(outDir, 'README.md'), lines.join('\n'));
  writeFileAtomic(join(outDir, 'pairs.png'), await pairSheet(outDir, record, resolution));
}

/** The first 12 validation pairs as a sheet: rows are pairs, columns image 0 and image 1. */
async function pairSheet(outDir: string, record: PickBuildRecord, resolution: number): Promise<Buffer> {
  const first = record.shards.find((s) => s.split === 'validation') ?? record.shards[0];
  if (!first) throw new Error(`${outDir}: no shards to draw`);
  const rows = await readPickShardRows(join(outDir, first.file), 12);
  const setting = (url: string): string => url.replace(/^selfdpo:\/\/([^?]+)\?steps=(\d+)&guidance=([\d.]+).*$/, '$1, $2 steps, cfg $3');
  const mark = (label: number): string => (label === 1 ? 'won' : label === 0.5 ? 'tie' : 'lost');
  return renderImageSheet({
    resolution,
    scale: 3,
    labelWidth: 260,
    title: 'Emoji-Pick validation pairs',
    columnLabels: ['image 0', 'image 1'],
    rowLabels: rows.map((r) => `${r.caption} — 0: ${mark(r.label_0)} (${setting(r.image_0_url)}); 1: ${mark(r.label_1)} (${setting(r.image_1_url)})`),
    cells: await Promise.all(rows.map(async (r) => [await decodeImageToRgb(r.jpg_0, resolution), await decodeImageToRgb(r.jpg_1, resolution)])),
  });
}
