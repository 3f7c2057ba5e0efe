import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import type { ImageTextSet } from './imageTextSet.js';
import { mapOrdered } from '../util/mapOrdered.js';

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
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: not valid JSON: ${(err as Error).message}`);
    }
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

/**
 * Load a pair set: every image decoded to `resolution` x `resolution` RGB (flattened on white,
 * resized to fit). A missing or unreadable image is an error naming the line and file.
 */
export async function loadPreferencePairs(file: string, resolution: number): Promise<PreferencePairSet> {
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
      const { data, info } = await sharp(readFileSync(full))
        .flatten({ background: '#ffffff' })
        .resize(resolution, resolution, { fit: 'contain', background: '#ffffff' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`${info.channels} channels after flattening`);
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    } catch (err) {
      throw new Error(`${file}:${line}: image ${full}: ${(err as Error).message}`);
    }
  };
  // Line numbers of the records (blank lines are skipped by the parser).
  const lines = text.split('\n').flatMap((l, k) => (l.trim() === '' ? [] : [k + 1]));
  const images = await mapOrdered(records, 8, async (r, i) => [await decode(r.winner, lines[i] as number), await decode(r.loser, lines[i] as number)] as const);
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
