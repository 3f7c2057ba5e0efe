import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Params } from '../model/params.js';
import { readWeights, writeWeights, type NamedWeights, type WeightsManifest } from '../model/weightsFile.js';
import { Tokenizer, type TokenizerSpec } from '../text/tokenizer.js';
import { resolveAtomicDir, writeDirAtomic } from '../util/atomicDir.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { ContrastiveJudge, type ContrastiveJudgeConfig } from './contrastiveJudge.js';
import { RealismJudge, type RealismJudgeConfig } from './realismJudge.js';
import { readJsonFile } from '../util/jsonFile.js';

export const JUDGE_FORMAT = 'selfdpo-judge/1';

/** judge.json: what a judge is, how it was trained, and its weights' content hash. */
export type JudgeFile = {
  format: typeof JUDGE_FORMAT;
  weightsManifest: WeightsManifest;
  /** Provenance: training data (styles, images), steps, seed, command, validity numbers. */
  about: Record<string, unknown>;
} & ({ kind: 'contrastive'; config: ContrastiveJudgeConfig; tokenizer: TokenizerSpec } | { kind: 'realism'; config: RealismJudgeConfig });

async function namedWeights(params: Params): Promise<NamedWeights> {
  const values = await params.values();
  return new Map([...values].map(([n, data]) => [n, { shape: params.variable(n).shape, data }]));
}

/** Write a judge directory (judge.json + weights.bin) atomically; returns its file. */
export async function saveJudge(dir: string, judge: ContrastiveJudge | RealismJudge, about: Record<string, unknown>): Promise<JudgeFile> {
  const weights = await namedWeights(judge.params);
  let file: JudgeFile | undefined;
  await writeDirAtomic(dir, (tmp) => {
    const weightsManifest = writeWeights(tmp, 'weights.bin', weights);
    file =
      judge instanceof ContrastiveJudge
        ? { format: JUDGE_FORMAT, kind: 'contrastive', config: judge.config, tokenizer: judge.tokenizer.toJSON(), weightsManifest, about }
        : { format: JUDGE_FORMAT, kind: 'realism', config: judge.config, weightsManifest, about };
    writeFileAtomic(join(tmp, 'judge.json'), `${JSON.stringify(file, null, 1)}\n`);
  });
  return file as JudgeFile;
}

/** A judge directory's judge.json (without loading its weights). */
export function readJudgeFile(dir: string): { file: JudgeFile; found: string } {
  const found = resolveAtomicDir(dir);
  const path = join(found ?? dir, 'judge.json');
  if (!found || !existsSync(path)) throw new Error(`${path} not found (a judge directory holds judge.json and weights.bin)`);
  const file = readJsonFile(path, 'judge file') as JudgeFile;
  if (file.format !== JUDGE_FORMAT) throw new Error(`${path}: format "${String(file.format)}", expected "${JUDGE_FORMAT}"`);
  return { file, found };
}

function fill(params: Params, found: string, file: JudgeFile): void {
  try {
    params.assign(readWeights(found, file.weightsManifest));
  } catch (err) {
    params.dispose();
    throw new Error(`${join(found, file.weightsManifest.file)}: ${(err as Error).message}`);
  }
}

/** Load a contrastive judge (the evaluation or the annotator judge). */
export function loadContrastiveJudge(dir: string): { judge: ContrastiveJudge; file: JudgeFile } {
  const { file, found } = readJudgeFile(dir);
  if (file.kind !== 'contrastive') throw new Error(`${join(found, 'judge.json')}: a ${file.kind} judge, expected a contrastive one`);
  const judge = ContrastiveJudge.create(file.config, new Tokenizer(file.tokenizer), 0);
  fill(judge.params, found, file);
  return { judge, file };
}

/** Load the realism judge. */
export function loadRealismJudge(dir: string): { judge: RealismJudge; file: JudgeFile } {
  const { file, found } = readJudgeFile(dir);
  if (file.kind !== 'realism') throw new Error(`${join(found, 'judge.json')}: a ${file.kind} judge, expected the realism judge`);
  const judge = RealismJudge.create(file.config, 0);
  fill(judge.params, found, file);
  return { judge, file };
}
