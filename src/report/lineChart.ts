import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite spec as built here and accepted by `renderChartSvg` (plain JSON, no functions). */
export type ChartSpec = TopLevelSpec;

/** One chart record: a flat object of field name -> value (for example one metrics.jsonl line). */
export type ChartRow = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Options of `lineChartSpec`: which fields go where, and how the chart looks. */
export interface LineChartOptions {
  /** Field on the x axis (for example `step`, or `quartile` for a per-quartile chart). */
  readonly x: string;
  /** Field on the y axis (for example `loss`). */
  readonly y: string;
  /** Field that splits the rows into one coloured line per value (for example `method`). */
  readonly color?: string;
  readonly title?: string;
  /** Axis and legend titles; each defaults to its field name. */
  readonly xTitle?: string;
  readonly yTitle?: string;
  readonly colorTitle?: string;
  /** `log` needs every y > 0. Default `linear`. */
  readonly yScale?: 'linear' | 'log';
  /** Whether a linear y axis must include 0. Default false: loss differences are small next to the loss. */
  readonly yZero?: boolean;
  /**
   * How x is read: `quantitative` (numbers on a continuous axis) or `ordinal` (categories kept in the
   * order they first appear, e.g. timestep quartiles). Default: quantitative if every x is a number.
   */
  readonly xType?: 'quantitative' | 'ordinal';
  /** Total size of the chart in pixels, axes, title and legend included. Default 640 x 360. */
  readonly width?: number;
  readonly height?: number;
  /** Draw a point at each row as well (useful when there are few x values). Default: true for ordinal x. */
  readonly points?: boolean;
  /**
   * Trailing moving average over this many rows per series: the raw line is drawn faint and the
   * smoothed line on top. 1 or unset draws only the raw line.
   */
  readonly smooth?: number;
  /** Fields holding a lower and an upper bound of y (e.g. a 95% CI), drawn as a shaded band per series. */
  readonly band?: { readonly low: string; readonly high: string };
}

/** Largest default size that still reads well in a notebook cell and in a README. */
const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 360;

/**
 * Vega-Lite reads `.` and brackets in a field name as nested access (`a.b` is `datum.a.b`);
 * metric names such as `loss.mean` are flat keys here, so escape them.
 */
function fieldRef(name: string): string {
  return name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Distinct values in order of first appearance, so series and categories keep the caller's order.
 * Vega-Lite takes a sort order only as an array of one type; a field mixing types gets its default order.
 */
function firstAppearance(rows: readonly ChartRow[], field: string): { sort?: string[] | number[] | boolean[] } {
  const seen = new Set<string | number | boolean>();
  for (const row of rows) {
    const v = row[field];
    if (v !== null && v !== undefined) seen.add(v);
  }
  const values = [...seen];
  if (values.every((v): v is string => typeof v === 'string')) return { sort: values };
  if (values.every((v): v is number => typeof v === 'number')) return { sort: values };
  if (values.every((v): v is boolean => typeof v === 'boolean')) return { sort: values };
  return {};
}

function requireField(rows: readonly ChartRow[], field: string, role: string): void {
  if (!rows.some((r) => r[field] !== null && r[field] !== undefined)) {
    const keys = rows.length ? Object.keys(rows[0] ?? {}).join(', ') : 'none, no rows';
    throw new Error(`lineChartSpec: ${role} field "${field}" is missing from every row (fields: ${keys})`);
  }
}

/**
 * Copy rows into plain JSON-safe objects holding only the fields the chart uses: vega adds an id to
 * each data object it ingests (so the caller's rows must not be handed over), and NaN or Infinity
 * would become `null` in JSON anyway (a notebook display serialises the spec), so make that explicit.
 */
function chartValues(rows: readonly ChartRow[], fields: readonly string[]): Array<Record<string, string | number | boolean | null>> {
  return rows.map((row) => {
    const out: Record<string, string | number | boolean | null> = {};
    for (const f of fields) {
      const v = row[f];
      out[f] = v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
    }
    return out;
  });
}

/**
 * A Vega-Lite (v5 schema, also valid for vega-lite 6) line chart of `rows`: one line per value of
 * `color`, optional moving-average smoothing and a shaded interval band. The result is plain JSON, so a
 * notebook can show it with the `application/vnd.vegalite.v5+json` MIME type and `renderChartSvg` /
 * `writeChart` can render it for `results/`.
 *
 * @example lineChartSpec(metrics, { x: 'step', y: 'loss', color: 'method', yScale: 'log', smooth: 20 })
 */
export function lineChartSpec(rows: readonly ChartRow[], options: LineChartOptions): ChartSpec {
  const { x, y, color, band } = options;
  if (rows.length === 0) throw new Error('lineChartSpec: no rows to chart');
  requireField(rows, x, 'x');
  requireField(rows, y, 'y');
  if (color !== undefined) requireField(rows, color, 'color');
  const yScale = options.yScale ?? 'linear';
  const smooth = options.smooth ?? 1;
  if (!Number.isInteger(smooth) || smooth < 1) throw new Error(`lineChartSpec: smooth must be a whole number >= 1, got ${smooth}`);
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isFinite(v) || v < 50) throw new Error(`lineChartSpec: ${name} must be at least 50 pixels, got ${v}`);
  }
  if (yScale === 'log') {
    // A log axis cannot show y <= 0; vega would silently drop such points, hiding a broken run.
    const yFields = band ? [y, band.low, band.high] : [y];
    rows.forEach((row, i) => {
      for (const f of yFields) {
        const v = row[f];
        if (typeof v === 'number' && Number.isFinite(v) && v <= 0) {
          throw new Error(`lineChartSpec: yScale 'log' needs y > 0, but row ${i} has ${f}=${v}`);
        }
      }
    });
  }

  const xType = options.xType ?? (rows.every((r) => typeof r[x] === 'number') ? 'quantitative' : 'ordinal');
  const fields = [...new Set([x, y, ...(color !== undefined ? [color] : []), ...(band ? [band.low, band.high] : [])])];
  const yAxis = {
    type: 'quantitative' as const,
    title: options.yTitle ?? y,
    scale: yScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: options.yZero ?? false },
  };
  const points = options.points ?? xType === 'ordinal';

  // Layers share x and colour (set once at the top) and each adds its own y and mark.
  const layer: NonNullable<Extract<ChartSpec, { layer: unknown }>['layer']> = [];
  if (band) {
    layer.push({
      mark: { type: 'area', opacity: 0.2 },
      encoding: { y: { ...yAxis, field: fieldRef(band.low) }, y2: { field: fieldRef(band.high) } },
    });
  }
  if (smooth > 1) {
    layer.push({ mark: { type: 'line', opacity: 0.3 }, encoding: { y: { ...yAxis, field: fieldRef(y) } } });
    layer.push({
      transform: [
        {
          window: [{ op: 'mean', field: fieldRef(y), as: '__smoothed' }],
          frame: [-(smooth - 1), 0],
          // Numeric x: average over the previous rows by x. Categories: over the rows in the caller's order.
          ...(xType === 'quantitative' ? { sort: [{ field: fieldRef(x) }] } : {}),
          ...(color !== undefined ? { groupby: [fieldRef(color)] } : {}),
        },
      ],
      mark: { type: 'line', point: points },
      encoding: { y: { ...yAxis, field: '__smoothed' } },
    });
  } else {
    layer.push({ mark: { type: 'line', point: points }, encoding: { y: { ...yAxis, field: fieldRef(y) } } });
  }

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    // Anchored at the plot's left edge: centred, a title wider than the plot (the legend takes
    // room beside it) ran off the picture's left side.
    ...(options.title !== undefined ? { title: { text: options.title, anchor: 'start' } } : {}),
    width,
    height,
    // 'fit' + 'padding': width and height are the whole picture, so a PNG is exactly width x height.
    autosize: { type: 'fit', contains: 'padding' },
    background: 'white',
    data: { values: chartValues(rows, fields) },
    encoding: {
      x: {
        field: fieldRef(x),
        type: xType,
        title: options.xTitle ?? x,
        // Category names such as 't 0-249' read better level than turned on end.
        ...(xType === 'ordinal' ? { ...firstAppearance(rows, x), axis: { labelAngle: 0 } } : {}),
      },
      ...(color !== undefined
        ? {
            color: {
              field: fieldRef(color),
              type: 'nominal' as const,
              title: options.colorTitle ?? color,
              ...firstAppearance(rows, color),
              // The legend would otherwise copy the first layer's symbol: the faint band or raw line.
              // Labels such as method names are kept whole (Vega-Lite cuts them at 160 px by default).
              legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2, labelLimit: 320 },
            },
          }
        : {}),
    },
    layer,
  };
}
