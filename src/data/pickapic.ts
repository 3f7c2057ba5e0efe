import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileAtomic } from '../util/atomicWrite.js';

/**
 * One row of Pick-a-Pic v2 (its dataset card's 19 columns, names and types kept): a prompt, two
 * generated images as JPEG bytes, which models drew them and the user's choice. `label_0` is 1
 * when image 0 won, 0 when image 1 won, 0.5 for a tie; `label_1 = 1 - label_0`.
 */
export interface PickRow {
  are_different: boolean;
  /** The winner's uid; for a tie, image 0's (Pick-a-Pic keeps a uid there too). */
  best_image_uid: string;
  caption: string;
  /** Nanoseconds since 1970 (Parquet TIMESTAMP(NANOS), not adjusted to UTC). */
  created_at: bigint;
  has_label: boolean;
  image_0_uid: string;
  image_0_url: string;
  image_1_uid: string;
  image_1_url: string;
  jpg_0: Uint8Array;
  jpg_1: Uint8Array;
  label_0: number;
  label_1: number;
  model_0: string;
  model_1: string;
  ranking_id: bigint;
  user_id: bigint;
  num_example_per_prompt: bigint;
  __index_level_0__: bigint;
}

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
const INT64 = { type: 'INT64' } as const;

/** The Parquet schema of each column, as pyarrow writes Pick-a-Pic v2's types (every column nullable). */
const COLUMN_TYPES: Record<keyof PickRow, Omit<SchemaElement, 'name'>> = {
  are_different: { type: 'BOOLEAN' },
  best_image_uid: STRING,
  caption: STRING,
  created_at: { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'NANOS' } },
  has_label: { type: 'BOOLEAN' },
  image_0_uid: STRING,
  image_0_url: STRING,
  image_1_uid: STRING,
  image_1_url: STRING,
  jpg_0: { type: 'BYTE_ARRAY' },
  jpg_1: { type: 'BYTE_ARRAY' },
  label_0: { type: 'DOUBLE' },
  label_1: { type: 'DOUBLE' },
  model_0: STRING,
  model_1: STRING,
  ranking_id: INT64,
  user_id: INT64,
  num_example_per_prompt: INT64,
  __index_level_0__: INT64,
};

/** Pick-a-Pic v2's column names, in its order. */
export const PICKAPIC_COLUMNS = Object.keys(COLUMN_TYPES) as Array<keyof PickRow>;

/**
 * Write rows as one Parquet shard in Pick-a-Pic v2's schema, atomically. The bytes depend only
 * on the rows (fixed writer name, row groups and codec), so a rebuild is byte-identical.
 */
export function writePickShard(file: string, rows: readonly PickRow[]): void {
  if (rows.length === 0) throw new Error(`${file}: a shard needs at least one row`);
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: PICKAPIC_COLUMNS.length },
    ...PICKAPIC_COLUMNS.map((name) => ({ name, repetition_type: 'OPTIONAL' as const, ...COLUMN_TYPES[name] })),
  ];
  const buffer = parquetWriteBuffer({
    columnData: PICKAPIC_COLUMNS.map((name) => ({ name, data: rows.map((r) => r[name]) })),
    schema,
    rowGroupSize: 1000,
    createdBy: 'selfdpo-lab',
  });
  writeFileAtomic(file, new Uint8Array(buffer));
}

/** A row as read back: hyparquet returns timestamps as Dates (millisecond precision). */
type PickRowRead = Omit<PickRow, 'created_at'> & { created_at: Date };

/** The first `limit` rows of a shard (for sheets and checks). */
export async function readPickShardRows(file: string, limit: number): Promise<PickRowRead[]> {
  return (await parquetReadObjects({ file: fileBuffer(file), rowEnd: limit, utf8: false })) as unknown as PickRowRead[];
}

/** One labelled pair read from a Pick-a-Pic v2 file: where it is and what the reader needs. */
interface PickPair {
  file: string;
  /** Counted from 0 within its file. */
  row: number;
  caption: string;
  winner: PickImage;
  loser: PickImage;
}

/** One image of a pair: its column, its bytes and the model that drew it ('' when the file has no model column). */
export interface PickImage {
  column: 'jpg_0' | 'jpg_1';
  bytes: Uint8Array;
  model: string;
}

/** What a read kept and dropped. */
interface PickReadSummary {
  files: string[];
  rows: number;
  /** Labelled 0.5/0.5: no preference (Diffusion-DPO's code drops them; so do SFT and Self-DPO, which need a winner). */
  ties: number;
  /** `has_label` false. */
  unlabelled: number;
  pairs: PickPair[];
}

/** The columns a pair file must have; the rest of the schema is optional. */
const REQUIRED: ReadonlyArray<keyof PickRow> = ['caption', 'jpg_0', 'jpg_1', 'label_0', 'label_1'];
/** What the reader takes from a file: the required columns, and these when present. */
const READ: ReadonlyArray<keyof PickRow> = [...REQUIRED, 'has_label', 'model_0', 'model_1'];
const NUMERIC = new Set(['DOUBLE', 'FLOAT', 'INT32', 'INT64']);

/** A file's bytes as the ArrayBuffer hyparquet reads (a copy of just this file's range). */
/** A Parquet file's bytes and schema; an error names the file when it is not Parquet. */
function openParquet(file: string): { buffer: ArrayBuffer; schema: SchemaElement[] } {
  const buffer = fileBuffer(file);
  try {
    return { buffer, schema: parquetMetadata(buffer).schema };
  } catch (err) {
    throw new Error(`${file}: not a Parquet file: ${(err as Error).message}`);
  }
}

function fileBuffer(file: string): ArrayBuffer {
  const bytes = readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The Parquet files of `path`: the file itself, or a folder's `*.parquet` in name order. */
export function pickFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new Error(`${path}: cannot read the preference pairs: ${(err as Error).message}`);
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new Error(`${path}: no .parquet files in this folder`);
  return files;
}

/**
 * Read preference pairs from Pick-a-Pic v2 Parquet (a file, a folder of shards, or a list of
 * files). Every error names the file and, for a bad value, the row and column: a missing column,
 * a column of the wrong type, an empty image, a label outside {0, 0.5, 1} or labels that do not
 * sum to 1. Ties and unlabelled rows are counted and left out.
 */
export async function readPickPairs(path: string | readonly string[]): Promise<PickReadSummary> {
  const summary: PickReadSummary = { files: typeof path === 'string' ? pickFiles(path) : [...path], rows: 0, ties: 0, unlabelled: 0, pairs: [] };
  for (const file of summary.files) {
    const { buffer, schema } = openParquet(file);
    const present = new Set(checkColumns(file, schema));
    const columns = READ.filter((c) => present.has(c));
    const rows = (await parquetReadObjects({ file: buffer, columns, utf8: false })) as Array<Record<string, unknown>>;
    rows.forEach((row, r) => {
      summary.rows += 1;
      const fail = (column: string, what: string): never => {
        throw new Error(`${file}: row ${r}, column ${column}: ${what}`);
      };
      if (row['has_label'] === false) {
        summary.unlabelled += 1;
        return;
      }
      const label0 = labelOf(row['label_0'], (what) => fail('label_0', what));
      const label1 = labelOf(row['label_1'], (what) => fail('label_1', what));
      if (label0 + label1 !== 1) fail('label_1', `labels ${label0} and ${label1} do not sum to 1`);
      if (label0 === 0.5) {
        summary.ties += 1;
        return;
      }
      const caption = row['caption'];
      if (typeof caption !== 'string' || caption.trim() === '') fail('caption', 'expected a non-empty string');
      const image = (k: 0 | 1): PickImage => {
        const column = k === 0 ? 'jpg_0' : 'jpg_1';
        const bytes = row[column];
        if (!(bytes instanceof Uint8Array) || bytes.length === 0) return fail(column, 'expected image bytes (JPEG or PNG), found none');
        const model = row[`model_${k}`];
        return { column, bytes, model: typeof model === 'string' ? model : '' };
      };
      const [winner, loser] = label0 === 1 ? [image(0), image(1)] : [image(1), image(0)];
      summary.pairs.push({ file, row: r, caption: caption as string, winner, loser });
    });
  }
  return summary;
}

/** One stored image of a Pick-a-Pic v2 file: where it is, the model that drew it and its bytes (JPEG or PNG, undecoded). */
export interface PickStoredImage {
  file: string;
  /** Counted from 0 within its file. */
  row: number;
  column: 'jpg_0' | 'jpg_1';
  model: string;
  bytes: Uint8Array;
}

/**
 * Every image of a Pick-a-Pic v2 file with the model that drew it, whatever the row's label (ties
 * and unlabelled rows too): image 0 then image 1 of each row, in row order. The file must have
 * `jpg_0`, `jpg_1`, `model_0` and `model_1`; an error names the file, and for a bad value its row
 * and column.
 */
export async function readPickImages(file: string): Promise<PickStoredImage[]> {
  const { buffer, schema } = openParquet(file);
  const byName = new Map(schema.slice(1).map((s) => [s.name, s]));
  const columns = ['jpg_0', 'jpg_1', 'model_0', 'model_1'] as const;
  for (const name of columns) {
    const s = byName.get(name);
    if (!s) throw new Error(`${file}: column ${name} is missing (every image needs the model that drew it: ${columns.join(', ')})`);
    if (s.type !== 'BYTE_ARRAY') throw new Error(`${file}: column ${name} has type ${s.type ?? 'group'}; expected ${name.startsWith('jpg') ? 'binary' : 'a string'} (BYTE_ARRAY)`);
  }
  const rows = (await parquetReadObjects({ file: buffer, columns: [...columns], utf8: false })) as Array<Record<string, unknown>>;
  return rows.flatMap((row, r) =>
    ([0, 1] as const).map((k): PickStoredImage => {
      const column = k === 0 ? 'jpg_0' : 'jpg_1';
      const bytes = row[column];
      if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error(`${file}: row ${r}, column ${column}: expected image bytes (JPEG or PNG), found none`);
      // utf8: false leaves strings without a UTF8 annotation as bytes.
      const raw = row[`model_${k}`];
      const model = raw instanceof Uint8Array ? new TextDecoder().decode(raw) : raw;
      if (typeof model !== 'string' || model === '') throw new Error(`${file}: row ${r}, column model_${k}: expected the name of the model that drew ${column}`);
      return { file, row: r, column, model, bytes };
    }),
  );
}

/** The names of a file's columns, after checking that the required ones exist with usable types. */
function checkColumns(file: string, schema: readonly SchemaElement[]): string[] {
  const byName = new Map(schema.slice(1).map((s) => [s.name, s]));
  for (const name of REQUIRED) {
    const s = byName.get(name);
    if (!s) throw new Error(`${file}: column ${name} is missing (Pick-a-Pic v2 needs ${REQUIRED.join(', ')})`);
    const numeric = name.startsWith('label_');
    const ok = numeric ? s.type !== undefined && NUMERIC.has(s.type) : s.type === 'BYTE_ARRAY';
    if (!ok) throw new Error(`${file}: column ${name} has type ${s.type ?? 'group'}; expected ${numeric ? 'a number (DOUBLE)' : name === 'caption' ? 'a string (BYTE_ARRAY, UTF8)' : 'binary (BYTE_ARRAY)'}`);
  }
  return [...byName.keys()];
}

/** A label value as a number in {0, 0.5, 1}, or the reader's error. */
function labelOf(value: unknown, fail: (what: string) => never): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !(n === 0 || n === 0.5 || n === 1)) return fail(`label ${String(value)} is not one of 0, 0.5, 1`);
  return n;
}
