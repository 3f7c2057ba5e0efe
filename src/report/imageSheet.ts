import sharp from 'sharp';

/** A labelled grid of RGB images: rows and columns with text beside them. */
export interface ImageSheet {
  /** Image side in pixels (all cells share it). */
  readonly resolution: number;
  /** Cell images by [row][column]; null leaves the cell blank. */
  readonly cells: ReadonlyArray<ReadonlyArray<Uint8Array | null>>;
  readonly rowLabels: readonly string[];
  readonly columnLabels: readonly string[];
  /** Lines of text under the grid (for example the full captions). */
  readonly footer?: readonly string[];
  readonly title?: string;
  /** Nearest-neighbour magnification of each image (pixels stay visible as pixels). */
  readonly scale?: number;
  /** Width of the row-label column in pixels (default 150); long labels wrap to fit the row. */
  readonly labelWidth?: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Split text into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** `text` cut to `max` characters, the last one an ellipsis when cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** The widest a sheet grows for its title and footer lines (a longer title is cut, a longer footer line wrapped): an SVG above 32767 px is refused by sharp. */
const MAX_TEXT_WIDTH = 1600;

/** Render a sheet to PNG bytes (text through SVG, so fonts come from fontconfig). */
export async function renderImageSheet(sheet: ImageSheet): Promise<Buffer> {
  const scale = sheet.scale ?? 3;
  const cell = sheet.resolution * scale;
  const gap = 6;
  const font = 12;
  const labelWidth = sheet.labelWidth ?? 150;
  const headerLines = sheet.columnLabels.map((l) => wrap(l, Math.max(8, Math.floor(cell / (font * 0.6)))).slice(0, 3));
  const titleHeight = sheet.title ? font * 2 : 0;
  const headerHeight = titleHeight + 3 * (font + 2) + gap;
  const nCols = sheet.columnLabels.length;
  const nRows = sheet.rowLabels.length;
  const gridWidth = labelWidth + nCols * (cell + gap);
  const maxChars = Math.floor((Math.max(gridWidth, MAX_TEXT_WIDTH) - 2 * gap) / (font * 0.6));
  // Footer lines are wrapped, not cut: they carry numbers (a figure's per-model means) that a cut would drop.
  const footer = (sheet.footer ?? []).flatMap((l) => wrap(l, maxChars));
  const title = sheet.title === undefined ? undefined : clip(sheet.title, maxChars);
  const width = Math.max(gridWidth, ...footer.map((l) => Math.ceil(l.length * font * 0.6) + 2 * gap));
  const height = headerHeight + nRows * (cell + gap) + gap + footer.length * (font + 4) + gap;

  const text: string[] = [];
  if (title) text.push(`<text x="${gap}" y="${font + 4}" font-size="${font + 2}" font-weight="bold">${escapeXml(title)}</text>`);
  headerLines.forEach((lines, c) => {
    lines.forEach((l, k) => {
      const x = labelWidth + c * (cell + gap) + cell / 2;
      text.push(`<text x="${x}" y="${titleHeight + (k + 1) * (font + 2)}" font-size="${font}" text-anchor="middle">${escapeXml(l)}</text>`);
    });
  });
  const maxLines = Math.max(1, Math.floor(cell / (font + 2)));
  sheet.rowLabels.forEach((l, r) => {
    const lines = wrap(l, Math.max(8, Math.floor((labelWidth - 2 * gap) / (font * 0.6)))).slice(0, maxLines);
    const top = headerHeight + r * (cell + gap) + (cell - lines.length * (font + 2)) / 2;
    lines.forEach((line, k) => {
      text.push(`<text x="${gap}" y="${top + (k + 1) * (font + 2) - 3}" font-size="${font}">${escapeXml(line)}</text>`);
    });
  });
  footer.forEach((l, k) => {
    const y = headerHeight + nRows * (cell + gap) + gap + (k + 1) * (font + 4);
    text.push(`<text x="${gap}" y="${y}" font-size="${font}">${escapeXml(l)}</text>`);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#ffffff"/><g font-family="DejaVu Sans, sans-serif" fill="#222">${text.join('')}</g></svg>`;

  const composites: sharp.OverlayOptions[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      const px = sheet.cells[r]?.[c];
      if (!px) continue;
      const input = await sharp(px, { raw: { width: sheet.resolution, height: sheet.resolution, channels: 3 } })
        .resize(cell, cell, { kernel: 'nearest' })
        .png()
        .toBuffer();
      composites.push({ input, left: labelWidth + c * (cell + gap), top: headerHeight + r * (cell + gap) });
    }
  }
  return sharp(Buffer.from(svg)).composite(composites).png().toBuffer();
}
