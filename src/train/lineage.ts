import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeldoutRecord } from './heldoutLoss.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { JsonLines } from '../runs/progress.js';

/**
 * A pretraining run continued from a shipped model (`--init-from`) starts a new run
 * directory, whose records begin where the model stopped. Shipping it should tell the whole
 * story: the commands that made the model it started from, then its own, and the loss and
 * held-out records from step 0. The run keeps that history in `lineage.json`, copied from the
 * model when the run starts: the model folder may be replaced later (by shipping this very
 * run into it, say), so it is never read again.
 */
interface Lineage {
  /** The model folder the run started from, the step it had reached and its weights' sha256. */
  from: { dir: string; step: number; sha256: string };
  /** The commands that made that model, oldest first. */
  commands: string[];
  metrics: Array<Record<string, unknown> & { step: number }>;
  heldout: HeldoutRecord[];
}

const LINEAGE_FILE = 'lineage.json';

/** The commands in a shipped model's README.md under "Made by:" (written by `npm run ship`), or undefined. */
function madeByCommands(readme: string): string[] | undefined {
  const m = /Made by:\s*\r?\n\s*```sh\r?\n([\s\S]*?)\r?\n```/.exec(readme);
  return m ? (m[1] as string).split(/\r?\n/).filter((l) => l.trim() !== '') : undefined;
}

/**
 * The history of model folder `dir` at `step`: its README's commands (a checkpoint folder
 * without them gets one line saying so) and its records up to that step.
 */
export function captureLineage(dir: string, step: number, sha256: string): Lineage {
  const readme = join(dir, 'README.md');
  const commands = (existsSync(readme) ? madeByCommands(readFileSync(readme, 'utf8')) : undefined) ?? [`# ${dir} at step ${step}: no recorded commands (no "Made by:" block in its README.md)`];
  const upTo = <T extends { step: number }>(file: string): T[] => (existsSync(join(dir, file)) ? (new JsonLines(join(dir, file)).read() as unknown as T[]).filter((r) => r.step <= step) : []);
  return { from: { dir, step, sha256 }, commands, metrics: upTo('metrics.jsonl'), heldout: upTo<HeldoutRecord>('heldout.jsonl') };
}

export function writeLineage(runDir: string, lineage: Lineage): void {
  writeFileAtomic(join(runDir, LINEAGE_FILE), `${JSON.stringify(lineage)}\n`);
}

/** A run's lineage.json, or undefined for a run started from scratch. */
export function readLineage(runDir: string): Lineage | undefined {
  const file = join(runDir, LINEAGE_FILE);
  return existsSync(file) ? (readJsonFile(file, 'run lineage') as Lineage) : undefined;
}
