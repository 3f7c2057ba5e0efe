import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../util/sha256.js';
import type { ManifestShard } from './emojiManifest.js';

/**
 * Images are stored as raw RGB bytes back to back in shard files of a fixed number of
 * images: no decoding at load time, and reading one shard is one file read.
 */
export class ShardWriter {
  private readonly done: ManifestShard[] = [];
  private current: Uint8Array[] = [];

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly shardSize: number,
    private readonly bytesPerImage: number,
  ) {}

  /** Append one image; returns where it went. */
  add(pixels: Uint8Array): { shard: number; index: number } {
    if (pixels.length !== this.bytesPerImage) {
      throw new Error(`ShardWriter: image has ${pixels.length} bytes, expected ${this.bytesPerImage}`);
    }
    const where = { shard: this.done.length, index: this.current.length };
    this.current.push(pixels);
    if (this.current.length === this.shardSize) this.flush();
    return where;
  }

  /** Write the last partial shard and return the list of shards. */
  finish(): ManifestShard[] {
    if (this.current.length > 0) this.flush();
    return this.done;
  }

  private flush(): void {
    const file = `${this.prefix}-${String(this.done.length).padStart(3, '0')}.bin`;
    const bytes = Buffer.concat(this.current);
    // The whole build directory is renamed into place at the end, so plain writes suffice here.
    writeFileSync(join(this.dir, file), bytes);
    this.done.push({ file, count: this.current.length, sha256: sha256(bytes) });
    this.current = [];
  }
}

/** Read shard files into memory, checking their size and (optionally) their hash. */
export function readShards(dir: string, shards: readonly ManifestShard[], bytesPerImage: number, verify = false): Uint8Array[] {
  return shards.map((s) => {
    const path = join(dir, s.file);
    const bytes = readFileSync(path);
    if (bytes.length !== s.count * bytesPerImage) {
      throw new Error(`${path}: ${bytes.length} bytes, expected ${s.count} images x ${bytesPerImage} bytes; rebuild with \`npm run data -- --force\``);
    }
    if (verify && sha256(bytes) !== s.sha256) {
      throw new Error(`${path}: content hash differs from manifest.json; rebuild with \`npm run data -- --force\``);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  });
}
