import { readFileSync } from 'node:fs';
import type { ChartSpec } from './lineChart.js';
import { VEGA_LITE_MIME, writeChart, type WrittenChart } from './renderChart.js';

/** What the notebooks' charts need of tslab's `display` (passed in, so the core does not depend on tslab). */
export interface ChartDisplay {
  raw(contentType: string, data: unknown): void;
  svg(svg: string): void;
}

/**
 * Show a Vega-Lite chart in a notebook and save it as `<basePath>.svg` and `.png`: the spec
 * under its MIME type (JupyterLab draws it) and the SVG rendered here (classic Notebook
 * cannot draw Vega-Lite; docs/DESIGN.md).
 */
export async function showChart(display: ChartDisplay, spec: ChartSpec, basePath: string): Promise<WrittenChart> {
  const written = await writeChart(spec, basePath);
  display.raw(VEGA_LITE_MIME, spec);
  display.svg(readFileSync(written.svg, 'utf8'));
  return written;
}
