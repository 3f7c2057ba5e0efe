import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeldoutRecord } from '../report/pretrainReport.js';
import { JsonLines } from './progress.js';

/**
 * A pretraining run continued from a shipped model (`--init-from`) starts a new run
 * directory, whose records begin where the model stopped. Shipping it again should tell the
 * whole story: the commands that made the model it started from, then its own; the loss and
 * held-out records from step 0. This module carries that history across.
 */

/** How a run's config.json names the model it was initialised from (one format, written and read here). */
export function initialisedFromText(dir: string, step: number): string {
  return `${dir} (step ${step}, AdamW moments reset)`;
}

function parseInitialisedFrom(text: string): { dir: string; step: number } {
  const m = /^(.+) \(step (\d+), /.exec(text);
  if (!m) throw new Error(`initialisedFrom: cannot read "${text}" (expected "<dir> (step N, ...)")`);
  return { dir: m[1] as string, step: Number(m[2]) };
}

/** The commands in a shipped model's README.md, under "Made by:" (written by `npm run ship`). */
export function madeByCommands(readme: string, file: string): string[] {
  const m = /Made by:\s*\n\s*```sh\n([\s\S]*?)\n```/.exec(readme);
  if (!m) throw new Error(`${file}: no "Made by:" block of commands`);
  return (m[1] as string).split('\n').filter((l) => l.trim() !== '');
}

export interface Lineage {
  commands: string[];
  metrics: Array<Record<string, unknown> & { step: number }>;
  heldout: HeldoutRecord[];
}

/**
 * What came before a run initialised from a shipped model: that model's commands and its
 * records up to the step the run started from. Undefined for a run started from scratch.
 */
export function priorLineage(invocations: ReadonlyArray<{ initialisedFrom?: string }> | undefined): Lineage | undefined {
  const first = invocations?.find((i) => i.initialisedFrom !== undefined)?.initialisedFrom;
  if (first === undefined) return undefined;
  const { dir, step } = parseInitialisedFrom(first);
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) throw new Error(`${readme}: missing; the run was initialised from ${dir}, whose history it would carry`);
  const upTo = <T extends { step: number }>(file: string): T[] => (existsSync(join(dir, file)) ? (new JsonLines(join(dir, file)).read() as unknown as T[]).filter((r) => r.step <= step) : []);
  return {
    commands: madeByCommands(readFileSync(readme, 'utf8'), readme),
    metrics: upTo('metrics.jsonl'),
    heldout: upTo<HeldoutRecord>('heldout.jsonl'),
  };
}
