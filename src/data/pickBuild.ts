import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../util/jsonFile.js';
import { sha256 } from '../util/sha256.js';

/** The two splits of an Emoji-Pick build, by prompt string (docs/PROTOCOL.md, "Emoji-Pick"). */
export type PickSplit = 'train' | 'validation';

/** One finished shard as build.json records it (src/pick/buildEmojiPick.ts records more of each). */
export interface PickBuildShard {
  split: PickSplit;
  /** Relative to the build folder. */
  file: string;
  pairs: number;
  ties: number;
  seconds: { sampling: number; scoring: number; writing: number };
}

/** build.json as its readers need it; `PickBuildRecord` (src/pick/buildEmojiPick.ts) is the whole record. */
export interface PickBuildFile {
  format: 'emoji-pick/1';
  /** What decides the shards' bytes, with `inputs`: the build's config and the weight hashes it drew from. */
  config: object;
  inputs: object;
  shards: PickBuildShard[];
  complete: boolean;
  commands: string[];
}

/** An Emoji-Pick build folder opened for reading: checked, its record, its shards by split. */
export interface PickBuild {
  dir: string;
  record: PickBuildFile;
  /** Each split's shard files (paths), in name order. */
  shards: Record<PickSplit, string[]>;
  /** sha256 of build.json's config and inputs, which decide every byte of the shards. */
  identity: string;
}

/** Whether `path` is an Emoji-Pick build's folder (it holds build.json): trainers read its splits apart. */
export function isPickBuild(path: string): boolean {
  return existsSync(join(path, 'build.json'));
}

/**
 * Open an Emoji-Pick build (the folder `npm run pick` writes). Every error names the file and how
 * to mend it: a folder without build.json or with another record, a split without shards, an
 * unfinished build, a listed shard that is missing.
 */
export function openPickBuild(dir: string): PickBuild {
  const file = join(dir, 'build.json');
  if (!existsSync(file)) throw new Error(`${file} not found: not an Emoji-Pick build (npm run pick -- --out ${dir} makes one: build.json, train/ and validation/)`);
  const record = readJsonFile(file, 'Emoji-Pick build record') as Partial<PickBuildFile> | null;
  if (typeof record !== 'object' || record === null || record.format !== 'emoji-pick/1') {
    throw new Error(`${file}: not an Emoji-Pick build record (format ${JSON.stringify(record?.format)}, expected "emoji-pick/1")`);
  }
  if (!Array.isArray(record.shards) || typeof record.inputs !== 'object' || typeof record.config !== 'object') throw new Error(`${file}: no config, shards or inputs recorded`);
  const finish = Array.isArray(record.commands) && typeof record.commands[0] === 'string' ? `rerun its command (${record.commands[0]})` : `run npm run pick -- --out ${dir} with its config`;
  const unfinished = record.complete === true ? '' : `; the build is not complete either: ${finish}`;
  const shards: Record<PickSplit, string[]> = { train: [], validation: [] };
  for (const s of record.shards) {
    if (s.split !== 'train' && s.split !== 'validation') throw new Error(`${file}: a shard of split ${JSON.stringify(s.split)}`);
    shards[s.split].push(join(dir, s.file));
  }
  if (shards.validation.length === 0) throw new Error(`${file}: the build has no validation split (no validation shard is recorded)${unfinished}`);
  if (shards.train.length === 0) throw new Error(`${file}: the build has no training split (no train shard is recorded)${unfinished}`);
  if (record.complete !== true) throw new Error(`${file}: the build is not complete (${record.shards.length} shards made); finish it with npm run pick: ${finish}`);
  for (const shard of [...shards.train, ...shards.validation]) if (!existsSync(shard)) throw new Error(`${shard}: listed in ${file} but missing; npm run pick redraws it (${finish})`);
  shards.train.sort();
  shards.validation.sort();
  return { dir, record: record as PickBuildFile, shards, identity: sha256(JSON.stringify([record.config, record.inputs])) };
}

/**
 * What a reproduction records of the build it trains on: sha256 of the build's identity and of
 * every shard's bytes, train then validation. Two builds with this hash equal train on the same
 * bytes, whatever folder they sit in.
 */
export function pickBuildSha256(build: PickBuild): string {
  const shards = [...build.shards.train, ...build.shards.validation].map((f) => sha256(readFileSync(f)));
  return sha256(JSON.stringify([build.identity, shards]));
}
