import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../util/sha256.js';
import { decodeFloat16, encodeFloat16 } from './float16.js';

/** Named float32 arrays with their shapes. */
export type NamedWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** How weights are stored: float32, or float16 for shipped checkpoints (half the bytes in git history). */
export type WeightDtype = 'float32' | 'float16';

/** One entry of a weights manifest (the fields of tfjs's weightsManifest). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
}

const BYTES: Record<WeightDtype, number> = { float32: 4, float16: 2 };

export interface WeightsManifest {
  /** The binary file beside the manifest. */
  file: string;
  /** sha256 of the binary file: a checkpoint's content hash. */
  sha256: string;
  weights: WeightSpec[];
}

/**
 * Write `weights` as `<dir>/<file>` (little-endian, in manifest order, all of one dtype) and
 * return the manifest. Callers write into a temp directory that is renamed into place.
 */
export function writeWeights(dir: string, file: string, weights: NamedWeights, dtype: WeightDtype = 'float32'): WeightsManifest {
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [, w] of weights) total += w.data.length;
  const buf = new Float32Array(total);
  let offset = 0;
  for (const [name, w] of weights) {
    specs.push({ name, shape: w.shape, dtype });
    buf.set(w.data, offset);
    offset += w.data.length;
  }
  const bytes = dtype === 'float16' ? new Uint8Array(encodeFloat16(buf).buffer) : new Uint8Array(buf.buffer);
  writeFileSync(join(dir, file), bytes);
  return { file, sha256: sha256(bytes), weights: specs };
}

/** Read the weights a manifest describes, checking size and hash; errors name the file. */
export function readWeights(dir: string, manifest: WeightsManifest): NamedWeights {
  const path = join(dir, manifest.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read the weights: ${(err as Error).message}`);
  }
  const hash = sha256(bytes);
  if (hash !== manifest.sha256) throw new Error(`${path}: sha256 ${hash.slice(0, 12)}… does not match the manifest's ${manifest.sha256.slice(0, 12)}… (corrupt or replaced)`);
  const dtypes = new Set(manifest.weights.map((w) => w.dtype ?? 'float32'));
  const dtype = (dtypes.size === 1 ? [...dtypes][0] : undefined) as WeightDtype | undefined;
  if (dtype === undefined || !(dtype in BYTES)) throw new Error(`${path}: the manifest's dtypes are [${[...dtypes].join(', ')}]; expected all float32 or all float16`);
  const expected = manifest.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0) * BYTES[dtype];
  if (bytes.length !== expected) throw new Error(`${path}: ${bytes.length} bytes, the manifest describes ${expected}`);
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const all = dtype === 'float16' ? decodeFloat16(new Uint16Array(copy)) : new Float32Array(copy);
  const out: NamedWeights = new Map();
  let offset = 0;
  for (const w of manifest.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, { shape: w.shape, data: all.subarray(offset, offset + n) });
    offset += n;
  }
  return out;
}
