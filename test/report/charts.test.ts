import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { intervalChartSpec, lineChartSpec, renderChartPng, renderChartSvg, writeChart, type ChartRow, type ChartSpec } from '../../src/report/index.js';

/** The spec as plain JSON, which is what a notebook display and vega actually receive. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing JSON in tests; the core itself has none
type Json = { [key: string]: any };
function json(spec: ChartSpec): Json {
  return JSON.parse(JSON.stringify(spec)) as Json;
}

/** Loss-curve rows: two methods, 3 steps each. */
const lossRows: ChartRow[] = [
  { step: 0, loss: 1, method: 'mse' },
  { step: 10, loss: 0.1, method: 'mse' },
  { step: 20, loss: 0.01, method: 'mse' },
  { step: 0, loss: 0.9, method: 'self-dpo' },
  { step: 10, loss: 0.2, method: 'self-dpo' },
  { step: 20, loss: 0.05, method: 'self-dpo' },
];

/** Per-quartile held-out rows: categorical x, a dotted metric name, a CI; listed in a non-alphabetical order. */
const quartileRows: ChartRow[] = ['t 750-999', 't 0-249', 't 250-499', 't 500-749'].flatMap((q, i) =>
  ['self-dpo', 'base'].map((m) => ({ quartile: q, 'loss.mean': 0.1 + i * 0.01 + (m === 'base' ? 0.005 : 0), lo: 0.09 + i * 0.01, hi: 0.12 + i * 0.01, method: m })),
);

/** Paths drawn by each line layer, keyed by Vega-Lite's layer mark name (one path per series). */
function linePathsByLayer(svg: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of svg.matchAll(/<g class="mark-line role-mark (\w+)"[^>]*>(.*?)<\/g>/g)) {
    const paths = [...m[2]!.matchAll(/<path [^>]*\bd="([^"]*)"/g)].map((p) => p[1]!);
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), ...paths]);
  }
  return out;
}

/** The y coordinates of a path made of M/L commands. */
function pathYs(d: string): number[] {
  return [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => Number(m[2]));
}

test('loss-curve spec: fields, log y scale, series order, size and a copy of the rows', () => {
  const spec = json(lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', title: 'Training loss', yScale: 'log', width: 400, height: 250 }));
  assert.equal(spec.$schema, 'https://vega.github.io/schema/vega-lite/v5.json');
  assert.deepEqual(spec.title, { text: 'Training loss', anchor: 'start' });
  assert.equal(spec.width, 400);
  assert.equal(spec.height, 250);
  assert.deepEqual(spec.autosize, { type: 'fit', contains: 'padding' });
  assert.deepEqual(spec.encoding.x, { field: 'step', type: 'quantitative', title: 'step' });
  assert.equal(spec.encoding.color.field, 'method');
  assert.deepEqual(spec.encoding.color.sort, ['mse', 'self-dpo']);
  assert.equal(spec.layer.length, 1);
  assert.deepEqual(spec.layer[0].encoding.y, { type: 'quantitative', title: 'loss', scale: { type: 'log' }, field: 'loss' });
  assert.equal(spec.layer[0].mark.type, 'line');
  assert.deepEqual(spec.data.values, lossRows);
  assert.notEqual(spec.data.values[0], lossRows[0]);
});

test('linear y leaves out zero by default; smoothing adds a faint raw layer and a windowed mean per series', () => {
  const lin = json(lineChartSpec(lossRows, { x: 'step', y: 'loss' }));
  assert.deepEqual(lin.layer[0].encoding.y.scale, { type: 'linear', zero: false });
  assert.equal(lin.encoding.color, undefined);
  assert.equal(lin.title, undefined);

  const s = json(lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', smooth: 3 }));
  assert.equal(s.layer.length, 2);
  assert.equal(s.layer[0].mark.opacity, 0.3);
  assert.deepEqual(s.layer[1].transform, [{ window: [{ op: 'mean', field: 'loss', as: '__smoothed' }], frame: [-2, 0], sort: [{ field: 'step' }], groupby: ['method'] }]);
  assert.equal(s.layer[1].encoding.y.field, '__smoothed');
});

test('per-quartile spec: ordinal x in the given order, escaped dotted field, CI band under the line', () => {
  const spec = json(lineChartSpec(quartileRows, { x: 'quartile', y: 'loss.mean', color: 'method', yTitle: 'held-out loss', band: { low: 'lo', high: 'hi' } }));
  assert.equal(spec.encoding.x.type, 'ordinal');
  assert.deepEqual(spec.encoding.x.sort, ['t 750-999', 't 0-249', 't 250-499', 't 500-749']);
  assert.deepEqual(spec.encoding.color.sort, ['self-dpo', 'base']);
  assert.equal(spec.layer.length, 2);
  assert.equal(spec.layer[0].mark.type, 'area');
  assert.equal(spec.layer[0].encoding.y.field, 'lo');
  assert.equal(spec.layer[0].encoding.y2.field, 'hi');
  assert.equal(spec.layer[1].encoding.y.field, 'loss\\.mean');
  assert.equal(spec.layer[1].encoding.y.title, 'held-out loss');
  assert.equal(spec.layer[1].mark.point, true);
  assert.deepEqual(Object.keys(spec.data.values[0]).sort(), ['hi', 'lo', 'loss.mean', 'method', 'quartile']);
});

test('bad input is refused with a message that names the problem', () => {
  assert.throws(() => lineChartSpec([], { x: 'step', y: 'loss' }), /no rows/);
  assert.throws(() => lineChartSpec(lossRows, { x: 'step', y: 'lsos' }), /y field "lsos" is missing from every row \(fields: step, loss, method\)/);
  assert.throws(() => lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'run' }), /color field "run"/);
  assert.throws(() => lineChartSpec([...lossRows, { step: 30, loss: 0, method: 'mse' }], { x: 'step', y: 'loss', yScale: 'log' }), /yScale 'log' needs y > 0, but row 6 has loss=0/);
  assert.throws(() => lineChartSpec(lossRows, { x: 'step', y: 'loss', smooth: 0 }), /smooth must be a whole number/);
  assert.throws(() => lineChartSpec(lossRows, { x: 'step', y: 'loss', width: 10 }), /width must be at least 50/);
});

test('NaN and Infinity become null in the data (what JSON would make of them anyway)', () => {
  const spec = json(
    lineChartSpec(
      [
        { step: 0, loss: Number.NaN },
        { step: 1, loss: Infinity },
        { step: 2, loss: 0.5 },
      ],
      { x: 'step', y: 'loss' },
    ),
  );
  assert.deepEqual(
    spec.data.values.map((v: Json) => v.loss),
    [null, null, 0.5],
  );
});

test('SVG: title, one path per series in each line layer, a log axis that spaces decades evenly, no warnings', async () => {
  const warnings: string[] = [];
  const spec = lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', title: 'Training loss', yScale: 'log', width: 400, height: 250 });
  const before = JSON.stringify(spec);
  const svg = await renderChartSvg(spec, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, [] as string[]);
  assert.equal(JSON.stringify(spec), before, 'rendering must not modify the spec');
  // vega tags each data object it ingests with a symbol key, invisible to JSON: it must tag a copy.
  const firstRow = (spec as { data: { values: object[] } }).data.values[0]!;
  assert.deepEqual(Object.getOwnPropertySymbols(firstRow), []);
  assert.match(svg, /^<svg [^>]*width="400" height="250"/);
  assert.match(svg, />Training loss<\/text>/);
  assert.match(svg, /for a log scale/);

  const layers = linePathsByLayer(svg);
  assert.deepEqual([...layers.keys()], ['layer_0_marks']);
  const paths = layers.get('layer_0_marks')!;
  assert.equal(paths.length, 2);
  // mse goes 1 -> 0.1 -> 0.01: on a log axis both steps down are the same distance.
  const ys = pathYs(paths[0]!);
  assert.equal(ys.length, 3);
  assert.ok(ys[1]! > ys[0]! && ys[2]! > ys[1]!, `y grows downwards in SVG: ${ys}`);
  assert.ok(Math.abs(ys[1]! - ys[0]! - (ys[2]! - ys[1]!)) < 0.01, `decades evenly spaced: ${ys}`);

  const smoothed = await renderChartSvg(lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', smooth: 2 }), { onWarning: (m) => warnings.push(m) });
  const smoothedLayers = linePathsByLayer(smoothed);
  assert.deepEqual(
    [...smoothedLayers.values()].map((p) => p.length),
    [2, 2],
  );
  assert.deepEqual(warnings, [] as string[]);
});

test('SVG of the per-quartile chart keeps the given category order on the x axis', async () => {
  const svg = await renderChartSvg(lineChartSpec(quartileRows, { x: 'quartile', y: 'loss.mean', color: 'method', band: { low: 'lo', high: 'hi' } }));
  const labels = [...svg.matchAll(/<text[^>]*>(t \d+-\d+)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(labels, ['t 750-999', 't 0-249', 't 250-499', 't 500-749']);
  assert.equal([...svg.matchAll(/<g class="mark-area role-mark/g)].length, 2, 'one CI band per series');
  // A line with points compiles to a nested layer: the line, then the point symbols.
  assert.deepEqual(
    [...linePathsByLayer(svg).entries()].map(([k, p]) => [k, p.length]),
    [['layer_1_layer_0_marks', 2]],
  );
  assert.equal([...svg.matchAll(/<path [^>]*aria-roledescription="point"/g)].length, 8, 'a point per row');
});

test('a vega runtime error rejects instead of giving a half-drawn chart', async () => {
  const spec = lineChartSpec(lossRows, { x: 'step', y: 'loss' });
  const broken = { ...spec, transform: [{ calculate: 'datum.nothing.deeper', as: 'bad' }] } as ChartSpec;
  await assert.rejects(renderChartSvg(broken, { onWarning: () => {} }), /renderChartSvg: vega reported/);
});

test('PNG: signature and pixel size = chart size x scale, from a spec or from an SVG', async () => {
  const spec = lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', title: 'Training loss', width: 300, height: 200 });
  const png = await renderChartPng(spec, 2);
  assert.ok(png instanceof Uint8Array);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [600, 400]);

  const fromSvg = await sharp(await renderChartPng(await renderChartSvg(spec))).metadata();
  assert.deepEqual([fromSvg.width, fromSvg.height], [300, 200]);
  // A white background, not a transparent one, so the PNG reads on dark pages too.
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([...data.subarray(0, info.channels)].slice(0, 3), [255, 255, 255]);
  await assert.rejects(renderChartPng(spec, 0), /scale must be in \(0, 8\]/);
});

test('PNG: a 256-colour palette that matches a full-colour rendering of the same SVG but at anti-aliased edges', async () => {
  const svg = await renderChartSvg(lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', title: 'Training loss', width: 300, height: 200 }));
  const png = await renderChartPng(svg, 2);
  assert.equal((await sharp(png).metadata()).isPalette, true);
  const rgb = (image: Uint8Array | Buffer): Promise<Buffer> => sharp(image).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer();
  const palette = await rgb(png);
  const full = await rgb(await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
  assert.equal(palette.length, full.length);
  let sum = 0;
  for (let i = 0; i < full.length; i++) sum += Math.abs((palette[i] as number) - (full[i] as number));
  assert.ok(sum / full.length < 0.5, `mean |palette - full colour| = ${(sum / full.length).toFixed(3)} of 255`);
});

test('writeChart writes <base>.svg and <base>.png and leaves no temp files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'charts-'));
  try {
    const spec = lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', title: 'Training loss', width: 320, height: 180 });
    const base = join(dir, 'nested', 'loss');
    const written = await writeChart(spec, base, { scale: 1 });
    assert.deepEqual(written, { svg: `${base}.svg`, png: `${base}.png` });
    assert.deepEqual(readdirSync(join(dir, 'nested')).sort(), ['loss.png', 'loss.svg']);
    assert.equal(readFileSync(written.svg, 'utf8'), await renderChartSvg(spec));
    const meta = await sharp(readFileSync(written.png)).metadata();
    assert.deepEqual([meta.width, meta.height], [320, 180]);
    await assert.rejects(writeChart(spec, `${base}.png`), /without extension/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interval chart draws each estimate as a point on its interval, in the given order, with the reference line', async () => {
  const rows = [
    { label: 'blur, λ1 0.5, β 5000 and a long tail of words', mean: 48, low: 38, high: 57, group: 'blur' },
    { label: 'randomImage, λ1 0, β 1000', mean: 58, low: 48, high: 67, group: 'randomImage' },
  ];
  const spec = intervalChartSpec(rows, { title: 'Align win rate', xTitle: 'Align win %', reference: 50 });
  const svg = await renderChartSvg(spec);
  // Whole labels (no ellipsis), in the rows' order from the top.
  const first = svg.indexOf('blur, λ1 0.5, β 5000 and a long tail of words');
  const second = svg.indexOf('randomImage, λ1 0, β 1000');
  assert.ok(first >= 0 && second >= 0, 'both labels drawn whole');
  assert.ok(!svg.includes('…'), 'no label cut short');
  const layers = json(spec)['layer'] as Json[];
  assert.deepEqual(layers[0]?.['data']?.['values'], [{ reference: 50 }]);
  assert.deepEqual(
    (json(spec)['data']['values'] as Json[]).map((r) => [r['label'], r['low'], r['high']]),
    rows.map((r) => [r.label, r.low, r.high]),
  );
});
