import { changeImage, changeRange, pixelChangeMap, pixelDifference } from '../eval/pixelDifference.js';
import { renderImageSheet } from '../report/imageSheet.js';
import { basesOf } from './implicitAccuracyFigure.js';
import { methodLabel } from './paperTables.js';
import { BASE_UNIT, unitBase, type GridRecord, type UnitRecord } from './reproUnits.js';

/** One model's grid under its column label, with its change from the base of its block. */
interface GridColumn {
  method: string;
  images: Uint8Array[][];
  /** changes[p][s]: `pixelChangeMap` against the base's image of prompt p, seed s (none for the base itself). */
  changes?: Uint8Array[][];
  /** Mean |model - base| over every byte of the grid, in levels of 255. */
  meanChange?: number;
}

/** A base's block of rows: its base unit's grid and every model trained from it that kept one. */
interface BaseBlock {
  base: string;
  columns: Map<string, GridColumn>;
}

function sameGrid(a: GridRecord, b: GridRecord): boolean {
  return a.resolution === b.resolution && JSON.stringify(a.prompts) === JSON.stringify(b.prompts) && JSON.stringify(a.seeds) === JSON.stringify(b.seeds);
}

/**
 * Figures 3/4 with their difference view. Per base (a block of rows each), for every prompt a row
 * of samples, columns = (model, sample seed), every model drawn from the same seeds, and under it
 * a row with each trained model's per-pixel change from its base on the same prompt and sample
 * seed (`pixelChangeMap`: the largest channel's |model - base|), drawn on the hot scale up to one
 * range the whole figure shares (`changeRange`), stated in the footer with each model's mean
 * change. A base whose base unit kept no grid gets sample rows only. `prompts`: the first N prompts
 * only (a notebook's smaller copy). Undefined when no unit kept a grid.
 */
export async function methodGridPng(units: readonly UnitRecord[], methods: readonly string[], figure: string, opts: { prompts?: number } = {}): Promise<Buffer | undefined> {
  const order = [BASE_UNIT, ...methods];
  let first: GridRecord | undefined;
  const blocks: BaseBlock[] = [];
  for (const base of basesOf(units)) {
    const columns = new Map<string, GridColumn>();
    for (const method of order) {
      const unit = units.find((u) => u.method === method && unitBase(u) === base && u.grid);
      if (!unit?.grid) continue;
      first ??= unit.grid.record;
      if (!sameGrid(first, unit.grid.record)) throw new Error(`${figure}: ${unit.unit} (${base}) drew other prompts, seeds or a resolution than the first grid; every model must draw the same grid`);
      columns.set(method, { method, images: unit.grid.images.slice(0, opts.prompts) });
    }
    const baseImages = columns.get(BASE_UNIT)?.images;
    if (baseImages) {
      for (const col of columns.values()) {
        if (col.method === BASE_UNIT) continue;
        col.changes = col.images.map((row, p) => row.map((img, s) => pixelChangeMap(img, baseImages[p]?.[s] as Uint8Array)));
        col.meanChange = pixelDifference(col.images.flat(), baseImages.flat()).mean;
      }
    }
    if (columns.size > 0) blocks.push({ base, columns });
  }
  if (!first) return undefined;
  const { seeds, resolution } = first;
  const prompts = first.prompts.slice(0, opts.prompts);
  const shown = order.filter((m) => blocks.some((b) => b.columns.has(m)));
  const allChanges = blocks.flatMap((b) => [...b.columns.values()].flatMap((c) => c.changes?.flat() ?? []));
  const range = allChanges.length > 0 ? changeRange(allChanges) : undefined;
  const several = blocks.length > 1;
  const label = (m: string): string => (m === BASE_UNIT ? (several ? 'base' : (blocks[0] as BaseBlock).base) : methodLabel(m));
  const rowLabels: string[] = [];
  const cells: Array<Array<Uint8Array | null>> = [];
  for (const block of blocks) {
    const tag = several ? `[${block.base}] ` : '';
    prompts.forEach((prompt, p) => {
      rowLabels.push(`${tag}${prompt}`);
      cells.push(shown.flatMap((m) => seeds.map((_, s) => block.columns.get(m)?.images[p]?.[s] ?? null)));
      if (range === undefined || !block.columns.has(BASE_UNIT)) return;
      rowLabels.push(`${tag}change from ${block.base} (same seed)`);
      cells.push(
        shown.flatMap((m) =>
          seeds.map((_, s) => {
            const change = block.columns.get(m)?.changes?.[p]?.[s];
            return change ? changeImage(change, range) : null;
          }),
        ),
      );
    });
  }
  const means = blocks.flatMap((b) =>
    [...b.columns.values()].flatMap((c) => (c.meanChange === undefined ? [] : [`${methodLabel(c.method)}${several ? ` (${b.base})` : ''} ${c.meanChange.toFixed(2)}`])),
  );
  const footer =
    range === undefined
      ? []
      : [
          `Change rows: under each sample, per pixel the largest of the three channels' |model - base| on the same prompt and sample seed, in byte levels of 255,`,
          `drawn black 0, red ${(range / 3).toFixed(1)}, yellow ${((2 * range) / 3).toFixed(1)}, white ${range} or more (${range}: this figure's 99th percentile of the change, rounded up to a power of two).`,
          `Mean |model - base| over every channel of the grid, levels of 255: ${means.join(', ')}.`,
        ];
  return renderImageSheet({
    resolution,
    title: `${figure}: ${shown.map(label).join(', ')}; sample seeds ${seeds.map((s) => `s${s}`).join(', ')} for every model${range === undefined ? '' : '; change rows under the samples'}`,
    rowLabels,
    columnLabels: shown.flatMap((m) => seeds.map((s) => `${label(m)}, s${s}`)),
    cells,
    footer,
    labelWidth: 330,
  });
}
