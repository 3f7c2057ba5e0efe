import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../util/sha256.js';

/** Named float32 arrays with their shapes. */
export type NamedWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** One entry of a weights manifest (the fields of tfjs's weightsManifest, plus byte offsets). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface WeightsManifest {
  /** The binary file beside the manifest. */
  file: string;
  /** sha256 of the binary file: a checkpoint's content hash. */
  sha256: string;
  weights: WeightSpec[];
}

/**
 * Write `weights` as `<dir>/<file>` (float32, little-endian, in manifest order) and return
 * the manifest. Callers write into a temp directory that is renamed into place.
 */
export function writeWeights(dir: string, file: string, weights: NamedWeights): WeightsManifest {
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [, w] of weights) total += w.data.length;
  const buf = new Float32Array(total);
  let offset = 0;
  for (const [name, w] of weights) {
    specs.push({ name, shape: w.shape, dtype: 'float32' });
    buf.set(w.data, offset);
    offset += w.data.length;
  }
  const bytes = new Uint8Array(buf.buffer);
  writeFileSync(join(dir, file), bytes);
  return { file, sha256: sha256(bytes), weights: specs };
}

/** Read the weights a manifest describes, checking size and hash; errors name the file. */
export function readWeights(dir: string, manifest: WeightsManifest): NamedWeights {
  const path = join(dir, manifest.file);
  const bytes = readFileSync(path);
  const hash = sha256(bytes);
  if (hash !== manifest.sha256) throw new Error(`${path}: sha256 ${hash.slice(0, 12)}… does not match the manifest's ${manifest.sha256.slice(0, 12)}… (corrupt or replaced)`);
  const expected = manifest.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expected * 4) throw new Error(`${path}: ${bytes.length} bytes, the manifest describes ${expected * 4}`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const out: NamedWeights = new Map();
  let offset = 0;
  for (const w of manifest.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, { shape: w.shape, data: all.subarray(offset, offset + n) });
    offset += n;
  }
  return out;
}
