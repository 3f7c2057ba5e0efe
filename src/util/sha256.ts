import { createHash } from 'node:crypto';

/** Hex SHA-256 of bytes or text: the content hash used for shards, judges and checkpoints. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
