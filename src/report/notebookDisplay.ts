import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as aq from 'arquero';
import sharp from 'sharp';
import type { ChartSpec } from './lineChart.js';
import { VEGA_LITE_MIME, writeChart, type WrittenChart } from './renderChart.js';

/**
 * The notebook kernel's writer of display messages: tslab's `require('tslab/dist/jupyter')`,
 * passed in so that the core does not depend on tslab. tslab's public `display` sends one MIME
 * type per message, so a chart sent as Vega-Lite and then as SVG is two outputs, and JupyterLab
 * draws both; one message with every representation is one output, drawn once in the richest
 * form the front end knows (docs/DESIGN.md, notebooks).
 */
export interface NotebookKernel {
  readonly lastWriteDisplayData: ((message: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void) | null;
}

/** Send one output holding every representation in `bundle` (MIME type -> content). */
export function displayBundle(kernel: NotebookKernel, bundle: Record<string, unknown>): void {
  if (kernel.lastWriteDisplayData === null) throw new Error('displayBundle: not running in a notebook kernel (tslab has no display writer yet)');
  kernel.lastWriteDisplayData({ data: bundle, metadata: {}, transient: {} }, false);
}

/**
 * Show a Vega-Lite chart as one output, and save it as `<basePath>.svg` and `.png`: the spec
 * (JupyterLab draws it), the SVG rendered here (classic Notebook and GitHub cannot draw Vega-Lite)
 * and a text line naming the files.
 */
export async function showChart(kernel: NotebookKernel, spec: ChartSpec, basePath: string): Promise<WrittenChart> {
  const written = await writeChart(spec, basePath);
  const title = typeof spec.title === 'string' ? spec.title : 'chart';
  // The text names the files, not their folder: a notebook's outputs must not depend on where it ran.
  displayBundle(kernel, {
    [VEGA_LITE_MIME]: roundedData(spec),
    'image/svg+xml': readFileSync(written.svg, 'utf8'),
    'text/plain': `${title} (saved as ${basename(written.svg)} and ${basename(written.png)})`,
  });
  return written;
}

/**
 * The spec with its inline data's numbers cut to 4 decimals: a notebook keeps every output in
 * its file (and git keeps every version of it), and 0.8166666666666667 draws as 0.8167 does.
 */
function roundedData(spec: ChartSpec): ChartSpec {
  const round = (value: unknown): unknown => {
    if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toFixed(4));
    if (Array.isArray(value)) return value.map(round);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v)]));
    return value;
  };
  return round(spec) as ChartSpec;
}

/**
 * Show a picture (a sample sheet) as one output: its PNG reduced to a 256-colour palette, which
 * is 2-4x smaller for sample grids with no difference the eye finds at their size, and a text line.
 */
export async function showImage(kernel: NotebookKernel, png: Uint8Array, caption: string): Promise<void> {
  const small = await sharp(png).png({ palette: true, colours: 256, dither: 0 }).toBuffer();
  displayBundle(kernel, { 'image/png': small.toString('base64'), 'text/plain': caption });
}

/** Show rows as one output: an HTML table, with the same table as markdown text for plain front ends. */
export function showTable(kernel: NotebookKernel, rows: ReadonlyArray<Record<string, unknown>>): void {
  const table = aq.from(rows as Array<Record<string, unknown>>);
  displayBundle(kernel, { 'text/html': table.toHTML({ limit: Infinity }), 'text/plain': table.toMarkdown({ limit: Infinity }) });
}
