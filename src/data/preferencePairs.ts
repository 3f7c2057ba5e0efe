import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import type { ImageTextSet } from './imageTextSet.js';
import { mapOrdered } from '../util/mapOrdered.js';
import { pickFiles, readPickPairs, type PickImage } from './pickapic.js';
import { unsafeSvgReason } from './svgSafety.js';
import { parseJson } from '../util/jsonFile.js';

/** The file name of a pair set inside its directory. */
export const PAIRS_FILE = 'pairs.jsonl';

/**
 * One line of pairs.jsonl: a prompt with a preferred and a rejected image (PNG paths relative
 * to the file). Optional fields record where the pair came from: the concept, the seeds the
 * base model drew with, and the scorer's scores.
 */
export interface PreferencePairRecord {
  prompt: string;
  winner: string;
  loser: string;
  concept?: string;
  winnerSeed?: number;
  loserSeed?: number;
  winnerScore?: number;
  loserScore?: number;
}

/** Preference pairs in memory: the winners as an ImageTextSet (what the batch loader reads) and the losers beside them. */
export interface PreferencePairSet {
  readonly file: string;
  readonly records: readonly PreferencePairRecord[];
  /** Winner i with prompt i as its fixed caption; ids are `pair/<i>`. */
  readonly winners: ImageTextSet;
  /** Loser of pair i, RGB bytes at the set's resolution. */
  loser(i: number): Uint8Array;
  /** Pick-a-Pic v2 Parquet: the rows read, and the ties and unlabelled rows left out of `records`. */
  readonly rows?: { rows: number; ties: number; unlabelled: number };
}

/** The pair index of a winner id (`pair/<i>`). */
export function pairIndexOfId(id: string): number {
  const m = /^pair\/(\d+)$/.exec(id);
  if (!m) throw new Error(`not a preference-pair id (pair/<n>): '${id}'`);
  return Number(m[1]);
}

/**
 * Parse pairs.jsonl text. Every error names the file and line: bad JSON, a missing or
 * empty prompt/winner/loser, a winner equal to its loser, a non-numeric seed or score.
 */
export function parsePairRecords(text: string, file: string): PreferencePairRecord[] {
  const records: PreferencePairRecord[] = [];
  text.split('\n').forEach((raw, k) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${k + 1}`;
    const value = parseJson(line, where);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected an object {prompt, winner, loser}`);
    const o = value as Record<string, unknown>;
    for (const key of ['prompt', 'winner', 'loser'] as const) {
      if (typeof o[key] !== 'string' || (o[key] as string).trim() === '') throw new Error(`${where}: "${key}" must be a non-empty string`);
    }
    if (o['winner'] === o['loser']) throw new Error(`${where}: winner and loser are the same file`);
    for (const key of ['winnerSeed', 'loserSeed', 'winnerScore', 'loserScore'] as const) {
      if (o[key] !== undefined && !(typeof o[key] === 'number' && Number.isFinite(o[key]))) throw new Error(`${where}: "${key}" must be a finite number`);
    }
    if (o['concept'] !== undefined && typeof o['concept'] !== 'string') throw new Error(`${where}: "concept" must be a string`);
    records.push(o as unknown as PreferencePairRecord);
  });
  if (records.length === 0) throw new Error(`${file}: no preference pairs`);
  return records;
}

/** One line per pair, in order. */
export function formatPairRecords(records: readonly PreferencePairRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Image bytes (PNG, JPEG...) as `resolution` x `resolution` RGB: flattened on white, resized to fit. */
export async function decodeImageToRgb(bytes: Uint8Array, resolution: number): Promise<Uint8Array> {
  const unsafe = unsafeSvgReason(bytes);
  if (unsafe !== undefined) throw new Error(`refused SVG: ${unsafe}`);
  const { data, info } = await sharp(bytes)
    .flatten({ background: '#ffffff' })
    .resize(resolution, resolution, { fit: 'contain', background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${info.channels} channels after flattening`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Load a pair set: pairs.jsonl (or the folder holding it) with its images, or Pick-a-Pic v2
 * Parquet (a `.parquet` file or a folder of shards; ties and unlabelled rows left out). Every image is decoded to `resolution`
 * x `resolution` RGB; an unreadable one is an error naming its file and line (or row and column).
 */
export async function loadPreferencePairs(path: string, resolution: number): Promise<PreferencePairSet> {
  if (!existsSync(path)) {
    throw new Error(`${path}: not found: no preference pairs there (npm run pick -- --out ${path} builds Emoji-Pick there; any Pick-a-Pic v2 Parquet file or folder, or a pairs.jsonl, trains too)`);
  }
  const isDir = statSync(path).isDirectory();
  // A folder is Parquet shards, or a pair set's folder holding its pairs.jsonl.
  if (path.endsWith('.parquet') || (isDir && !existsSync(join(path, PAIRS_FILE)))) return loadPickPairs(path, resolution);
  const file = isDir ? join(path, PAIRS_FILE) : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the preference pairs: ${(err as Error).message}`);
  }
  const records = parsePairRecords(text, file);
  const base = dirname(file);
  const decode = async (path: string, line: number): Promise<Uint8Array> => {
    const full = isAbsolute(path) ? path : join(base, path);
    try {
      return await decodeImageToRgb(readFileSync(full), resolution);
    } catch (err) {
      throw new Error(`${file}:${line}: image ${full}: ${(err as Error).message}`);
    }
  };
  // Line numbers of the records (blank lines are skipped by the parser).
  const lines = text.split('\n').flatMap((l, k) => (l.trim() === '' ? [] : [k + 1]));
  const images = await mapOrdered(records, 8, async (r, i) => [await decode(r.winner, lines[i] as number), await decode(r.loser, lines[i] as number)] as const);
  return pairSet(file, records, images, resolution);
}

/**
 * Pick-a-Pic v2 Parquet (a file, a folder of shards, or the shard files of one split of an
 * Emoji-Pick build) as a pair set named `name`: a record per labelled, untied row, its images
 * named `<file>:<row>/jpg_k`. A tie has no winner and no loser: Diffusion-DPO's code drops it,
 * and SFT and Self-DPO, which train on winners, have none to take (docs/PROTOCOL.md, "Emoji-Pick").
 */
export async function loadPickPairs(path: string | readonly string[], resolution: number, name = typeof path === 'string' ? path : path.join(', ')): Promise<PreferencePairSet> {
  // Keyed by each file's size and modification time too: a rebuilt build is read afresh.
  const files = typeof path === 'string' ? pickFiles(path) : [...path];
  const key = JSON.stringify([name, resolution, files.map((f) => [f, ...fileStamp(f)])]);
  const cached = decodedPickPairs.get(key);
  if (cached) return cached;
  const loading = decodePickPairs(files, resolution, name);
  decodedPickPairs.set(key, loading);
  // A failed read is not kept: its error should name the file again when the user has fixed it.
  loading.catch(() => decodedPickPairs.delete(key));
  while (decodedPickPairs.size > DECODED_PICK_SETS_KEPT) decodedPickPairs.delete(decodedPickPairs.keys().next().value as string);
  return loading;
}

/**
 * Pair sets decoded in this process, newest last. A reproduction runs its units in one process,
 * each reading the same build's train and validation splits; decoding the 6,500-pair build's
 * 13,000 JPEGs took 4-9 s a unit, a third of a quick unit's time. Pair sets are read-only.
 */
const decodedPickPairs = new Map<string, Promise<PreferencePairSet>>();
/** A build's two splits, and room for a second resolution or build. */
const DECODED_PICK_SETS_KEPT = 4;

function fileStamp(file: string): [number, number] {
  try {
    const s = statSync(file);
    return [s.size, s.mtimeMs];
  } catch (err) {
    throw new Error(`${file}: cannot read the preference pairs: ${(err as Error).message}`);
  }
}

async function decodePickPairs(files: readonly string[], resolution: number, name: string): Promise<PreferencePairSet> {
  const read = await readPickPairs(files);
  if (read.pairs.length === 0) throw new Error(`${name}: no preference pairs (${read.rows} rows: ${read.ties} ties, ${read.unlabelled} unlabelled)`);
  const images = await mapOrdered(read.pairs, 8, async (p) => {
    const decode = async (image: PickImage): Promise<Uint8Array> => {
      try {
        return await decodeImageToRgb(image.bytes, resolution);
      } catch (err) {
        throw new Error(`${p.file}: row ${p.row}, column ${image.column}: not a decodable image: ${(err as Error).message}`);
      }
    };
    return [await decode(p.winner), await decode(p.loser)] as const;
  });
  // A pair's concept is its caption: Pick-a-Pic has no concept column, and a random-image loser must come from another prompt.
  const records: PreferencePairRecord[] = read.pairs.map((p) => ({ prompt: p.caption, winner: `${p.file}:${p.row}/${p.winner.column}`, loser: `${p.file}:${p.row}/${p.loser.column}`, concept: p.caption }));
  return { ...pairSet(name, records, images, resolution), rows: { rows: read.rows, ties: read.ties, unlabelled: read.unlabelled } };
}

/** Records and their decoded images as a pair set. */
function pairSet(file: string, records: readonly PreferencePairRecord[], images: ReadonlyArray<readonly [Uint8Array, Uint8Array]>, resolution: number): PreferencePairSet {
  const at = (i: number): readonly [Uint8Array, Uint8Array] => {
    const pair = images[i];
    if (!pair) throw new RangeError(`pair ${i} out of range [0, ${records.length})`);
    return pair;
  };
  return {
    file,
    records,
    winners: {
      resolution,
      size: records.length,
      pixels: (i) => at(i)[0],
      caption: (i) => (records[i] as PreferencePairRecord).prompt,
      id: (i) => `pair/${i}`,
    },
    loser: (i) => at(i)[1],
  };
}
