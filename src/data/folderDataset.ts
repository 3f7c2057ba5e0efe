import { readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { DatasetError, type BadItem, type DatasetErrorWhere } from './datasetError.js';
import type { ImageTextSet } from './imageTextSet.js';
import { parseJsonIfWhole } from '../util/jsonFile.js';
import { mapOrdered } from '../util/mapOrdered.js';
import { unsafeSvgReason } from './svgSafety.js';

/** Options of `loadFolderDataset`. */
export interface FolderDatasetOptions {
  /** Side of the square output images in pixels (default 32). */
  resolution?: number;
  /** Skip bad examples (reported in `skipped`) instead of throwing on the first one. */
  skipBad?: boolean;
  /** Called as images are decoded: once with `done = 0`, then after each image. */
  onProgress?: (done: number, total: number) => void;
}

/** What `loadFolderDataset` returns. */
export interface FolderDataset {
  set: ImageTextSet;
  /** Examples left out under `skipBad`, in captions-line order (empty otherwise). */
  skipped: BadItem[];
}

/** Name of the captions file inside a dataset folder. */
export const CAPTIONS_FILE = 'captions.jsonl';

const DEFAULT_RESOLUTION = 32;
// Images in flight at once. sharp decodes on libuv's thread pool (4 threads by default),
// so a few more than that keeps it busy while bounding the encoded bytes held in memory.
const DECODE_CONCURRENCY = 8;

/** One line of captions.jsonl that passed the cheap checks. */
interface Entry {
  line: number;
  /** As written in captions.jsonl; also the example's id. */
  file: string;
  /** For messages: the dataset folder as given, joined with `file`. */
  shown: string;
  /** The image's real path (symlinks resolved), checked to be inside the folder's real path. */
  real: string;
  caption: string;
}

/**
 * Load a user's own folder of images with a `captions.jsonl` beside them (one
 * `{"file": "relative/path.png", "caption": "..."}` object per line; blank lines and extra
 * keys are ignored). Every image format sharp reads is accepted; each image is flattened
 * onto white, resized so its short side fits and centre-cropped to a square, and stored as
 * RGB uint8 HWC in one contiguous buffer, in captions-line order.
 *
 * Images of any size load, as far as memory allows (sharp's default cap on input pixels is
 * lifted). An image must be inside the folder: a path that leaves it (`../x.png`), or a
 * symlink whose target is outside it, is refused; symlinks that stay inside, and a dataset
 * folder that is itself reached through a symlink, are fine.
 *
 * Bad input raises a `DatasetError` that names the file and the captions line. Checks run
 * in two passes: first captions.jsonl itself and the presence of every image (cheap, so a
 * typo fails fast), then the decoding; within a pass the lowest line is reported. With
 * `skipBad` bad examples are collected into `skipped` instead, and the load fails only
 * when no usable example is left.
 */
export async function loadFolderDataset(dir: string, opts: FolderDatasetOptions = {}): Promise<FolderDataset> {
  const resolution = opts.resolution ?? DEFAULT_RESOLUTION;
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new RangeError(`loadFolderDataset: resolution must be a positive integer, got ${resolution}`);
  }
  const skipBad = opts.skipBad ?? false;

  const dirStat = statOrUndefined(dir, dir);
  if (dirStat === undefined) throw new DatasetError(dir, 'dataset folder not found');
  if (!dirStat.isDirectory()) throw new DatasetError(dir, 'is not a folder');
  const realRoot = realpathOrThrow(dir, dir);

  const captionsPath = path.join(dir, CAPTIONS_FILE);
  const { entries, bad } = readCaptions(dir, realRoot, captionsPath, skipBad);
  const total = entries.length;
  const bytesPer = resolution * resolution * 3;

  // Decode into slots indexed by entry, so the output order is the line order whatever
  // order the decodes finish in.
  const pixels = new Uint8Array(total * bytesPer);
  const failed: Array<DatasetError | undefined> = new Array(total);
  let done = 0;
  let stop = false;
  opts.onProgress?.(0, total);
  await mapOrdered(entries, DECODE_CONCURRENCY, async (entry, i) => {
    // Without skipBad, stop taking new work at the first failure. Every entry before a
    // failing one was taken before it, so the lowest failing line is always found.
    if (stop) return;
    try {
      pixels.set(await decodeImage(entry, captionsPath, resolution), i * bytesPer);
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      failed[i] = err;
      if (!skipBad) stop = true;
    }
    done++;
    opts.onProgress?.(done, total);
  });

  const firstFailure = failed.find((e) => e !== undefined);
  if (!skipBad && firstFailure !== undefined) throw firstFailure;

  // Compact the good examples to the front, keeping their order.
  const kept: Entry[] = [];
  for (let i = 0; i < total; i++) {
    const err = failed[i];
    if (err !== undefined) {
      bad.push(err);
      continue;
    }
    if (kept.length !== i) pixels.copyWithin(kept.length * bytesPer, i * bytesPer, (i + 1) * bytesPer);
    kept.push(entries[i] as Entry);
  }
  const skipped = bad.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)).map((e) => e.toBadItem());

  if (kept.length === 0) {
    const first = skipped[0];
    const why = first === undefined ? 'it lists no images' : `${skipped.length} skipped; the first, line ${first.line}: ${first.file}: ${first.reason}`;
    throw new DatasetError(captionsPath, `no usable examples (${why})`);
  }
  const data = kept.length === total ? pixels : pixels.subarray(0, kept.length * bytesPer);
  return { set: new FolderImageTextSet(resolution, data, kept), skipped };
}

/** The loaded examples; `pixels(i)` is a view into one shared buffer, not a copy. */
class FolderImageTextSet implements ImageTextSet {
  readonly size: number;

  constructor(
    readonly resolution: number,
    private readonly data: Uint8Array,
    private readonly entries: readonly Entry[],
  ) {
    this.size = entries.length;
  }

  pixels(i: number): Uint8Array {
    this.check(i);
    const n = this.resolution * this.resolution * 3;
    return this.data.subarray(i * n, (i + 1) * n);
  }

  // Captions are fixed: the rng of the interface is not needed.
  caption(i: number): string {
    this.check(i);
    return (this.entries[i] as Entry).caption;
  }

  id(i: number): string {
    this.check(i);
    return (this.entries[i] as Entry).file;
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`example index ${i} out of range [0, ${this.size})`);
    }
  }
}

/**
 * Parse captions.jsonl and check that every listed image exists inside the folder
 * (`realRoot` is the folder's real path). Without skipBad the first problem throws; with
 * it, problems are returned in `bad`.
 */
function readCaptions(dir: string, realRoot: string, captionsPath: string, skipBad: boolean): { entries: Entry[]; bad: DatasetError[] } {
  const captionsStat = statOrUndefined(captionsPath, captionsPath);
  if (captionsStat === undefined) {
    throw new DatasetError(captionsPath, 'not found (a dataset folder needs a captions.jsonl with one ' + '{"file": ..., "caption": ...} object per line)');
  }
  if (!captionsStat.isFile()) throw new DatasetError(captionsPath, 'is not a file');

  const text = readFileSync(captionsPath, 'utf8').replace(/^\uFEFF/, '');
  const lines = text.split('\n');
  const root = path.resolve(dir);
  const entries: Entry[] = [];
  const bad: DatasetError[] = [];

  for (let k = 0; k < lines.length; k++) {
    const raw = (lines[k] as string).replace(/\r$/, '');
    if (raw.trim() === '') continue;
    try {
      entries.push(parseLine(raw, k + 1, dir, root, realRoot, captionsPath));
    } catch (e) {
      if (!(e instanceof DatasetError) || !skipBad) throw e;
      bad.push(e);
    }
  }
  return { entries, bad };
}

/**
 * Parse one non-blank line and check that its image is there, inside the folder; throws a
 * DatasetError if not. `root` is the folder as an absolute path, `realRoot` its real path.
 */
function parseLine(raw: string, line: number, dir: string, root: string, realRoot: string, captionsPath: string): Entry {
  const err = (reason: string, key?: string) => new DatasetError(captionsPath, reason, key !== undefined ? { line, key } : { line });

  const value = parseJsonIfWhole(raw);
  if (value === undefined) throw err('is not valid JSON');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw err(`must be a JSON object like {"file": ..., "caption": ...}, got ${typeName(value)}`);
  }
  const record = value as Record<string, unknown>;

  for (const key of ['file', 'caption'] as const) {
    if (!Object.hasOwn(record, key)) throw err('is missing', key);
    const v = record[key];
    if (typeof v !== 'string') throw err(`must be a string, got ${typeName(v)}`, key);
    if (v.trim() === '') throw err('is empty', key);
  }
  const file = record['file'] as string;
  const caption = (record['caption'] as string).trim();

  if (path.isAbsolute(file) || path.win32.isAbsolute(file)) {
    throw err(`must be a path relative to the folder, got ${JSON.stringify(file)}`, 'file');
  }
  // First the text of the path (the fault is then in captions.jsonl) ...
  const abs = path.resolve(root, file);
  if (!isInside(root, abs)) {
    throw err(`escapes the dataset folder: ${JSON.stringify(file)}`, 'file');
  }

  const shown = path.join(dir, file);
  const where = { line, listedIn: captionsPath };
  const st = statOrUndefined(abs, shown, where);
  if (st === undefined) throw new DatasetError(shown, 'image file not found', where);
  // ... then where it really is, symlinks followed (the fault is then the link itself).
  // The image is later read through this real path, not through the link.
  const real = realpathOrThrow(abs, shown, where);
  if (!isInside(realRoot, real)) {
    throw new DatasetError(shown, `resolves through a symlink to ${JSON.stringify(real)}, outside the dataset folder ${JSON.stringify(realRoot)}`, where);
  }
  if (!st.isFile()) throw new DatasetError(shown, 'is not a file', where);
  return { line, file, shown, real, caption };
}

/** Whether absolute path `p` is `root` or below it (by the text of the paths). */
function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

/** Decode one image to `resolution^2 * 3` RGB bytes, or throw a DatasetError naming it. */
async function decodeImage(entry: Entry, captionsPath: string, resolution: number): Promise<Uint8Array> {
  const fail = (reason: string) => new DatasetError(entry.shown, reason, { line: entry.line, listedIn: captionsPath });

  let input: Buffer;
  try {
    // Read the bytes ourselves rather than give sharp the path: libvips' operation cache
    // keys file input by path and serves the old pixels after a file is rewritten in place
    // (lovell/sharp#1426). An error here is about the file, not its content.
    input = await readFile(entry.real);
  } catch (e) {
    throw fail(`cannot read image: ${messageOf(e)}`);
  }
  const unsafe = unsafeSvgReason(input);
  if (unsafe !== undefined) throw fail(`refused SVG: ${unsafe}`);
  try {
    // No density is needed for SVG: when resizing, sharp re-rasterises vector input at the
    // target scale, so a 16-unit icon gives sharp edges at 32 px, not a blurred upscale.
    // limitInputPixels: false lifts sharp's default cap of 0x3FFF * 0x3FFF pixels (about
    // 16383x16383), which would refuse a large scan or panorama that memory can hold.
    // Any size memory allows is meant: libvips streams the decode through the shrink, so an
    // image is usually not held whole (a 20000x20000 PNG took about 60 MB, not 1.2 GB).
    const { data, info } = await sharp(input, { limitInputPixels: false })
      .autoOrient() // phone photos store rotation in EXIF
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .resize(resolution, resolution, { fit: 'cover', position: 'centre' })
      .toColourspace('srgb') // grey, CMYK, 16-bit -> 3 x uint8
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== resolution || info.height !== resolution || info.channels !== 3) {
      const got = `${info.width}x${info.height}x${info.channels}`;
      throw new Error(`decoded to ${got}, expected ${resolution}x${resolution}x3`);
    }
    return data;
  } catch (e) {
    throw fail(`cannot decode image: ${messageOf(e)}`);
  }
}

/**
 * `stat`, with "not there" (no such entry, or a path component that is a file) as
 * undefined and any other failure (permissions) as a DatasetError about `shown`.
 */
function statOrUndefined(p: string, shown: string, where: DatasetErrorWhere = {}): Stats | undefined {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DatasetError(shown, `cannot access: ${messageOf(e)}`, where);
  }
}

/** `realpathSync`, any failure a DatasetError about `shown` (the path was just stat'ed). */
function realpathOrThrow(p: string, shown: string, where: DatasetErrorWhere = {}): string {
  try {
    return realpathSync(p);
  } catch (e) {
    throw new DatasetError(shown, `cannot resolve: ${messageOf(e)}`, where);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
