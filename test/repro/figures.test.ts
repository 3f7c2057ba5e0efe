import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { bootstrapMean } from '../../src/eval/winRate.js';
import { renderChartSvg } from '../../src/report/renderChart.js';
import { centredAverage } from '../../src/util/centredAverage.js';
import { FIG5_PANELS, implicitAccuracyPoints, implicitAccuracySpec, probePairsLabel } from '../../src/repro/implicitAccuracyFigure.js';
import { methodGridPng } from '../../src/repro/methodGridFigure.js';
import type { GridRecord, UnitRecord } from '../../src/repro/reproUnits.js';
import { winRateForestSpec, winRateRows } from '../../src/repro/winRateForest.js';
import type { PostTrainStepRecord, ProbeRecord } from '../../src/train/postTrain.js';
import { LABELLED_LOSERS } from '../../src/train/pairProbe.js';
import { evalOf, unitOf } from './claimsFixture.js';

// The reproduction's figures, in one file (one test process: every process adds to the coverage c8 merges).

// Figure 5.
/** A run of `method` with `acc(step)` as its training implicit accuracy at steps 1-10 (step 1's 0, as a real run has it) and these probes. */
const unit = (method: string, seed: number, acc: (step: number) => number, probe: Array<[number, number]> = [], more: Partial<UnitRecord> = {}, downgrade = 'randomImage'): UnitRecord => ({
  unit: `${method}-s${seed}`,
  method,
  seed,
  evals: {},
  probe: probe.map(([step, a]): ProbeRecord => ({ step, set: 'emoji-pick-validation', downgrade, mse_w: 0, mse_l: 0, ref_w: 0, ref_l: 0, dpo: 0, implicit_acc: a })),
  metrics: Array.from({ length: 10 }, (_, i): PostTrainStepRecord => ({ step: i + 1, loss: 0, mse_w: 0, implicit_acc: i === 0 ? 0 : acc(i + 1), lr: 0, grad_norm: 0, sec: 0 })),
  ...more,
});

const near = (a: number | null | undefined, b: number): boolean => typeof a === 'number' && Math.abs(a - b) < 1e-12;

test('centredAverage: the value and w/2 either side, the window cut at the ends', () => {
  // w 4 -> 5 values centred; at the ends the window holds 3 (index 0: 1,2,3) and 4 (index 1: 1..4).
  assert.deepEqual(centredAverage([1, 2, 3, 4, 5, 6], 4), [2, 2.5, 3, 4, 4.5, 5]);
  assert.deepEqual(centredAverage([1, 5], 1), [1, 5]);
});

test('Figure 5 starts at step 2: a centred average of each seed from step 2, then the mean over seeds every smooth/2 steps', () => {
  // Seed 1's accuracy is step/10, seed 2's is 0; step 1 (0 by construction) is left out of both.
  const points = implicitAccuracyPoints([unit('self-dpo', 1, (s) => s / 10), unit('self-dpo', 2, () => 0)], 4).filter((p) => p.panel === FIG5_PANELS.training);
  assert.deepEqual(
    points.map((p) => p.step),
    [2, 4, 6, 8, 10],
  );
  // Window of 5 centred: step 2 -> seed 1 mean(0.2, 0.3, 0.4) = 0.3, seed 2 0 -> 0.15;
  // step 6 -> mean(0.4..0.8) = 0.6 -> 0.3; step 10 -> mean(0.8, 0.9, 1.0) = 0.9 -> 0.45.
  const at = (step: number): number => points.find((p) => p.step === step)?.implicit_acc as number;
  assert.ok(near(at(2), 0.15), String(at(2)));
  assert.ok(near(at(6), 0.3), String(at(6)));
  assert.ok(near(at(10), 0.45), String(at(10)));
  // Two seeds: a t interval (12.706 x sd / sqrt 2 = 1.906 at step 2), cut to [0, 1].
  const first = points[0];
  assert.ok(near(first?.low, 0) && near(first?.high, 1), JSON.stringify(first));
  // One seed: no band.
  const alone = implicitAccuracyPoints([unit('self-dpo', 1, (s) => s / 10)], 1).filter((p) => p.panel === FIG5_PANELS.training);
  assert.deepEqual(
    alone.map((p) => [p.step, Number(p.implicit_acc.toFixed(12)), p.low, p.high]),
    Array.from({ length: 9 }, (_, i) => [i + 2, (i + 2) / 10, null, null]),
  );
});

test("Figure 5's probe panel: each method's held-out probe from its first probe after step 0, the mean over seeds", () => {
  const units = [
    unit(
      'dpo',
      1,
      () => 0.5,
      [
        [0, 0],
        [8, 0.5],
        [16, 0.75],
      ],
      {},
      LABELLED_LOSERS,
    ),
    unit(
      'dpo',
      2,
      () => 0.5,
      [
        [0, 0],
        [8, 0.7],
        [16, 0.25],
      ],
      {},
      LABELLED_LOSERS,
    ),
  ];
  const probe = implicitAccuracyPoints(units, 1).filter((p) => p.panel === FIG5_PANELS.probe);
  assert.deepEqual(
    probe.map((p) => [p.method, p.step]),
    [
      ['Diffusion-DPO', 8],
      ['Diffusion-DPO', 16],
    ],
  );
  assert.ok(near(probe[0]?.implicit_acc, 0.6) && near(probe[1]?.implicit_acc, 0.5));
  assert.equal(probePairsLabel({ set: 'emoji-pick-validation', downgrade: LABELLED_LOSERS }), 'labelled pairs of emoji-pick-validation');
  assert.equal(probePairsLabel({ set: 'emoji-pick-validation', downgrade: 'blur' }), 'emoji-pick-validation winners, blur losers');
  // The subtitle names each method's probe pairs.
  const spec = JSON.parse(JSON.stringify(implicitAccuracySpec(units, 1))) as { title: { subtitle: string[] } };
  assert.ok(spec.title.subtitle.includes('· labelled pairs of emoji-pick-validation: Diffusion-DPO'), spec.title.subtitle.join('\n'));
});

test('Figure 5: a row of panels per base, every line its own dash, coinciding lines both drawn', async () => {
  // Self-DPO and Self-DPO w/o MSE with the same values (the paper preset's Table 4 at beta 5000), and a base-L run.
  const units = [
    unit('self-dpo', 1, (s) => s / 10, [[5, 0.8]]),
    unit('self-dpo-no-mse', 1, (s) => s / 10, [[5, 0.8]]),
    unit('dpo', 1, () => 0.5, [[5, 0.6]], {}, LABELLED_LOSERS),
    unit('self-dpo', 1, () => 0.9, [[5, 0.9]], { base: 'base-L' }),
  ];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing the spec's JSON
  const spec = JSON.parse(JSON.stringify(implicitAccuracySpec(units, 1))) as any;
  assert.deepEqual(spec.facet.row.sort, ['base-S', 'base-L']);
  assert.deepEqual(spec.facet.column.sort, ['training batches', 'held-out probe']);
  assert.deepEqual([...new Set(spec.data.values.map((v: { base: string }) => v.base))], ['base-S', 'base-L']);
  assert.ok(spec.data.values.every((v: { step: number; panel: string }) => v.step >= (v.panel === FIG5_PANELS.training ? 2 : 1)));
  // Methods in the reproduction's order, each its own dash pattern (the first solid), one line layer each, in that order.
  const methods = ['Diffusion-DPO', 'Self-DPO', 'Self-DPO w/o MSE'];
  assert.deepEqual(spec.spec.encoding.color.scale.domain, methods);
  const lines = spec.spec.layer.filter((l: { mark: { type: string } }) => l.mark.type === 'line');
  assert.deepEqual(
    lines.map((l: { transform: Array<{ filter: { equal: string } }> }) => l.transform[0]?.filter.equal),
    methods,
  );
  const dashes = lines[0].encoding.strokeDash.scale.range.map((d: number[]) => d.join(','));
  assert.equal(dashes[0], '1,0');
  assert.equal(new Set(dashes).size, methods.length);
  // Rendered: Self-DPO's and w/o MSE's identical curves are two paths with different dashes.
  const svg = await renderChartSvg(implicitAccuracySpec(units, 1), { onWarning: (m) => assert.fail(m) });
  const line = (method: string): { d: string; dash: string } => {
    const m = new RegExp(`<path aria-label="step: 2; [^"]*; method: ${method}" [^>]*aria-roledescription="line mark" d="([^"]*)"[^>]*stroke-dasharray="([^"]*)"`).exec(svg);
    assert.ok(m, `no line of ${method} in the SVG`);
    return { d: m[1] as string, dash: m[2] as string };
  };
  const [withMse, withoutMse] = [line('Self-DPO'), line('Self-DPO w/o MSE')];
  assert.equal(withMse.d, withoutMse.d, 'the same curve');
  assert.deepEqual([withMse.dash, withoutMse.dash], ['8,4', '3,3'], 'drawn with different dashes, the later one over the earlier');
  assert.ok(svg.indexOf('method: Self-DPO w/o MSE') > svg.indexOf('method: Self-DPO"'), 'w/o MSE is drawn after (over) Self-DPO');
});

// Figures 3 and 4: the sample grids with their change from the base.

const R = 4;

/** A 4x4 RGB image: `left` in every byte of the left two columns, `right` in the right two. */
function halves(left: [number, number, number], right: [number, number, number]): Uint8Array {
  const img = new Uint8Array(R * R * 3);
  for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) img.set(x < R / 2 ? left : right, 3 * (y * R + x));
  return img;
}

const record: GridRecord = { prompts: ['a cat'], seeds: [0], resolution: R, sampling: { steps: 2, guidance: 1 } };
const gridUnit = (method: string, image: Uint8Array, base?: string): UnitRecord => ({
  unit: method === 'base' ? 'base' : `${method}-s1`,
  method,
  seed: method === 'base' ? 0 : 1,
  evals: {},
  metrics: [],
  probe: [],
  grid: { record, images: [[image]] },
  ...(base ? { base } : {}),
});

/** The sheet's layout (src/report/imageSheet.ts): cells of 4 x 3 px after a 330 px label column and a 72 px header, 6 px gaps. */
const cell = R * 3;
const left = (column: number): number => 330 + column * (cell + 6);
const top = (row: number): number => 72 + row * (cell + 6);

async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
}

test("Figures 3/4: under each model's sample, its per-pixel change from the base on the same seed, on the figure's scale", async () => {
  // The base is grey 100; SFT moves the left half's green channel by 8 and the right half's blue by 2.
  // The change is 8 on half the pixels and 2 on the other half: the 99th percentile is 8, so the range is 8:
  // the left half is white (8 of 8), the right red at 255 x 3 x 2/8 = 191.25 -> 191.
  const base = halves([100, 100, 100], [100, 100, 100]);
  const sft = halves([100, 108, 100], [100, 100, 98]);
  const png = (await methodGridPng([gridUnit('base', base), gridUnit('sft', sft)], ['sft', 'dpo'], 'Figure 3')) as Buffer;
  const meta = await sharp(png).metadata();
  // Two columns (the base, SFT; Diffusion-DPO has no grid), two rows (the samples, their change).
  assert.equal(meta.height, top(2) + 6 + 3 * (12 + 4) + 6, 'two rows of cells and three footer lines');
  assert.deepEqual(await pixel(png, left(1) + 1, top(0) + 1), [100, 108, 100], 'the sample itself');
  assert.deepEqual(await pixel(png, left(1) + 1, top(1) + 1), [255, 255, 255], 'its change of 8 at the top of the scale');
  assert.deepEqual(await pixel(png, left(1) + cell - 2, top(1) + 1), [191, 0, 0], 'its change of 2 a quarter up the scale');
  // The base has no change of its own: its cell under the sample is left blank.
  assert.deepEqual(await pixel(png, left(0) + 1, top(1) + 1), [255, 255, 255]);
  assert.deepEqual(await pixel(png, left(0) + cell - 2, top(1) + 1), [255, 255, 255]);
});

test('Figures 3/4 with both bases: a block of rows per base, each model against its own base', async () => {
  const grey = halves([100, 100, 100], [100, 100, 100]);
  const dark = halves([20, 20, 20], [20, 20, 20]);
  // base-L's base is dark and its SFT the same dark: no change (black), though it differs from base-S's base by 80.
  const units = [gridUnit('base', grey), gridUnit('sft', halves([100, 104, 100], [100, 104, 100])), gridUnit('base', dark, 'base-L'), gridUnit('sft', dark, 'base-L')];
  const png = (await methodGridPng(units, ['sft'], 'Figure 3')) as Buffer;
  assert.equal((await sharp(png).metadata()).height, top(4) + 6 + 3 * (12 + 4) + 6, 'base-S: sample and change rows, then base-L: the same');
  assert.deepEqual(await pixel(png, left(1) + 1, top(1) + 1), [255, 255, 255], "base-S's SFT: a change of 4, the whole range");
  assert.deepEqual(await pixel(png, left(1) + 1, top(2) + 1), [20, 20, 20], "base-L's SFT sample");
  assert.deepEqual(await pixel(png, left(1) + 1, top(3) + 1), [0, 0, 0], "base-L's SFT against base-L's base: no change");
  assert.equal(await methodGridPng([], ['sft'], 'Figure 3'), undefined);
});

test("Figures 3/4 cut to the first prompts (a notebook's smaller copy)", async () => {
  const two: GridRecord = { ...record, prompts: ['a cat', 'a dog'] };
  const grey = halves([100, 100, 100], [100, 100, 100]);
  const twoPrompts = (method: string, first: Uint8Array): UnitRecord => ({ ...gridUnit(method, first), grid: { record: two, images: [[first], [grey]] } });
  const units = [twoPrompts('base', grey), twoPrompts('sft', halves([100, 104, 100], [100, 104, 100]))];
  const height = async (prompts?: number): Promise<number | undefined> =>
    (await sharp((await methodGridPng(units, ['sft'], 'Figure 3', prompts === undefined ? {} : { prompts })) as Buffer).metadata()).height;
  assert.equal(await height(), top(4) + 6 + 3 * (12 + 4) + 6);
  assert.equal(await height(1), top(2) + 6 + 3 * (12 + 4) + 6);
});

// The win-rate forest plot.

/** Four prompts; Align, rank and Real set so that each win rate is known by hand. */
const scores = (align: number[], rank: number[], real: number[]): { align: number[]; rank: number[]; real: number[] } => ({ align, rank, real });

test('the forest rows: each method against the base it was trained from, per base, prompt set and win metric, worked by hand', () => {
  const baseS = scores([0.5, 0.5, 0.5, 0.5], [3, 3, 3, 3], [1, 1, 1, 1]);
  // base-L's own base scores higher than base-S's everywhere: its models are compared with it, never with base-S.
  const baseL = scores([0.9, 0.9, 0.9, 0.9], [1, 1, 1, 1], [3, 3, 3, 3]);
  const units = [
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', baseS, 10) }),
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', baseL, 10) }, { base: 'base-L' }),
    // SFT on base-S: Align wins 3 and ties 1 -> 87.5%; rank (lower wins) 2 wins, 2 losses -> 50%; Real all wins -> 100%.
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.6, 0.6, 0.5], [1, 1, 5, 5], [2, 2, 2, 2]), 9) }),
    // SFT on base-L: the same scores lose Align on every prompt against base-L's base -> 0%; Real 2 < 3 -> 0%.
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.6, 0.6, 0.5], [1, 1, 5, 5], [2, 2, 2, 2]), 9) }, { base: 'base-L' }),
    // Self-DPO on base-S only, two seeds: all ties on Align -> 50%.
    unitOf('self-dpo', 1, { 'curated-val': evalOf('curated-val', baseS, 9) }),
    unitOf('self-dpo', 2, { 'curated-val': evalOf('curated-val', baseS, 9) }),
  ];
  const rows = winRateRows(units, ['sft', 'dpo', 'self-dpo']);
  const row = (base: string, method: string, metric: string) => rows.find((r) => r.base === base && r.method === method && r.metric === metric);
  assert.deepEqual(
    rows.map((r) => `${r.base} ${r.set} ${r.method} ${r.metric}`),
    [
      'base-S curated-val SFT Align win',
      'base-S curated-val SFT rank win',
      'base-S curated-val SFT Real win',
      'base-S curated-val Self-DPO Align win',
      'base-S curated-val Self-DPO rank win',
      'base-S curated-val Self-DPO Real win',
      'base-L curated-val SFT Align win',
      'base-L curated-val SFT rank win',
      'base-L curated-val SFT Real win',
    ],
  );
  // One seed: the interval is the bootstrap over prompts of the per-prompt outcomes (win 1, tie 0.5, loss 0), in %.
  const align = row('base-S', 'SFT', 'Align win');
  const expected = bootstrapMean([1, 1, 1, 0.5]);
  assert.deepEqual([align?.mean, align?.low, align?.high, align?.seeds, align?.prompts], [87.5, 100 * expected.low, 100 * expected.high, 1, 4]);
  assert.equal(row('base-S', 'SFT', 'rank win')?.mean, 50);
  assert.deepEqual([row('base-S', 'SFT', 'Real win')?.mean, row('base-S', 'SFT', 'Real win')?.low, row('base-S', 'SFT', 'Real win')?.high], [100, 100, 100]);
  assert.deepEqual([row('base-L', 'SFT', 'Align win')?.mean, row('base-L', 'SFT', 'Align win')?.high], [0, 0]);
  assert.equal(row('base-L', 'SFT', 'Real win')?.mean, 0);
  // Two seeds, every prompt tied: 50% with no spread.
  const tie = row('base-S', 'Self-DPO', 'Align win');
  assert.deepEqual([tie?.mean, tie?.low, tie?.high, tie?.seeds], [50, 50, 50, 2]);
});

test('the forest plot: prompt sets as columns, a chart per base with its own methods, every method a line with each metric beside it, and a rule at 50%', async () => {
  const base = scores([0.5, 0.5], [3, 3], [1, 1]);
  const units = [
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', base, 10), 'keyword-only': evalOf('keyword-only', base, 10) }),
    unitOf('self-dpo', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.4], [2, 4], [2, 0]), 9), 'keyword-only': evalOf('keyword-only', base, 9) }),
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', base, 9) }),
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', base, 10) }, { base: 'base-L' }),
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.4], [2, 4], [2, 0]), 9) }, { base: 'base-L' }),
  ];
  const rows = winRateRows(units, ['sft', 'self-dpo']);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing the spec's JSON
  const spec = JSON.parse(JSON.stringify(winRateForestSpec(rows))) as any;
  // 3 metrics x (base-S: SFT and Self-DPO on curated-val, Self-DPO on keyword-only; base-L: SFT on curated-val).
  assert.deepEqual(spec.data.values.length, 12);
  assert.deepEqual(
    spec.vconcat.map((c: { title: { text: string }; transform: Array<{ filter: { equal: string } }>; facet: { column: { sort: string[] } } }) => [
      c.title.text,
      c.transform[0]?.filter.equal,
      c.facet.column.sort,
    ]),
    [
      ['base-S', 'base-S', ['curated-val', 'keyword-only']],
      ['base-L', 'base-L', ['curated-val', 'keyword-only']],
    ],
  );
  const [reference, interval, estimate] = spec.vconcat[0].spec.layer;
  assert.deepEqual(reference.encoding.x.datum, 50);
  assert.deepEqual([interval.encoding.x.field, interval.encoding.x2.field, estimate.encoding.x.field], ['low', 'high', 'mean']);
  assert.deepEqual(estimate.encoding.y.sort, ['SFT', 'Self-DPO']);
  assert.deepEqual(estimate.encoding.yOffset.sort, ['Align win', 'rank win', 'Real win']);
  // The prompts of each set (2 here) and the seeds per method, named set by set.
  assert.match(spec.title.subtitle[1], /^Prompts: curated-val 2, keyword-only 2; 1 training seed\(s\) per method\.$/);
  const mixed = winRateForestSpec(rows.map((r) => (r.method === 'SFT' ? { ...r, seeds: 3 } : r))) as unknown as { title: { subtitle: string[] } };
  assert.match(mixed.title.subtitle[1] as string, /; 1 to 3 training seeds by method\.$/);
  // Each chart's y axis lists only its own base's methods: base-L trained SFT alone, so its chart has one row.
  const svg = await renderChartSvg(winRateForestSpec(rows), { onWarning: (m) => assert.fail(m) });
  assert.match(svg, /keyword-only/);
  assert.equal((svg.match(/>Self-DPO</g) ?? []).length, 1);
  assert.equal((svg.match(/>SFT</g) ?? []).length, 2);
  assert.throws(() => winRateForestSpec([]), /no trained model/);
});

test("Figure 5's title counts the seeds of the methods it draws, not those of a method it leaves out", () => {
  // A part-run reproduction: SFT (no implicit accuracy, not drawn) has 3 seeds, Diffusion-DPO 1.
  const sft = (seed: number): UnitRecord => ({ ...unit('sft', seed, () => 0), metrics: unit('sft', seed, () => 0).metrics.map(({ implicit_acc: _, ...m }) => m) });
  const title = (units: UnitRecord[]): string => (implicitAccuracySpec(units, 1) as { title: { text: string } }).title.text;
  const dpo = (seed: number): UnitRecord => unit('dpo', seed, () => 0.6, [[5, 0.6]], {}, LABELLED_LOSERS);
  assert.equal(title([sft(1), sft(2), sft(3), dpo(1)]), 'Figure 5: implicit accuracy from step 2');
  assert.equal(title([sft(1), dpo(1), dpo(2)]), 'Figure 5: implicit accuracy from step 2 (mean of 2 training seeds, 95% band)');
  // Methods with different counts (Self-DPO 1, Diffusion-DPO 2): the title gives the range, not the most.
  const selfDpo = unit('self-dpo', 1, () => 0.8, [[5, 0.8]]);
  assert.equal(title([selfDpo, dpo(1), dpo(2)]), 'Figure 5: implicit accuracy from step 2 (mean of 1 to 2 training seeds by method, 95% band where several)');
});

test("Figure 5's subtitle breaks a long list of methods on the same probe pairs into lines of at most 120 characters, naming every one", () => {
  const methods = ['self-dpo', 'self-dpo-no-mse', 'self-dpo-nearest', 'self-dpo-beta50', 'self-dpo-no-mse-beta50', 'self-dpo-web', 'self-dpo-curated'];
  const spec = implicitAccuracySpec(
    methods.map((m) => unit(m, 1, () => 0.8, [[5, 0.8]])),
    1,
  ) as { title: { subtitle: string[] } };
  const listed = spec.title.subtitle.slice(spec.title.subtitle.findIndex((l) => l.startsWith('· ')));
  assert.ok(listed.length > 1, listed.join('\n'));
  assert.ok(
    listed.every((l) => l.length <= 120),
    listed.join('\n'),
  );
  assert.match(listed[0] as string, /^· emoji-pick-validation winners, randomImage losers: Self-DPO, /);
  assert.ok(
    listed.slice(1).every((l) => !l.startsWith('· ')),
    'continuations carry no bullet',
  );
  assert.equal((listed.join(' ').split(': ')[1] as string).split(',').length, methods.length, 'every method once, one comma between each');
});
