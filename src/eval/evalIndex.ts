/**
 * A README.md that tabulates every evaluation JSON in a folder (what `npm run eval` writes),
 * with the commands that made them: so a results folder of evaluations explains itself.
 * It never replaces a README it did not write itself (a model card, say).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { EvalResult } from './evaluate.js';
import { metricCells } from './metrics/metric.js';
import { metrics } from './metrics/registry.js';
import { samplingLabel } from '../model/generate.js';
import { readJsonFile } from '../util/jsonFile.js';

/** The first line of every index this module writes: how it recognises its own README. */
export const EVAL_INDEX_MARKER = '<!-- evaluation index: rewritten by npm run eval whenever it writes a result here -->';

/** An evaluation JSON as `npm run eval` writes it: the result, its wall time and command. */
type SavedEval = EvalResult & { seconds?: number; command?: string };

function isSavedEval(x: unknown): x is SavedEval {
  const r = x as Partial<SavedEval> | null;
  return typeof r === 'object' && r !== null && typeof r.promptSet === 'string' && typeof r.align === 'number' && typeof r.modelSha256 === 'string';
}

/** The evaluation JSONs of `dir`, by file name (other JSON files are left out). */
function readEvaluations(dir: string): { file: string; result: SavedEval }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      // A garbled file is an error naming it, not a row silently missing from the index.
      const result = readJsonFile(join(dir, file), 'evaluation');
      return isSavedEval(result) ? [{ file, result }] : [];
    });
}

/** The index as markdown. */
function renderEvalIndex(evals: { file: string; result: SavedEval }[]): string {
  const short = (h: string): string => `\`${h.slice(0, 12)}\``;
  const lines = [
    EVAL_INDEX_MARKER,
    '# Evaluations',
    '',
    "Each JSON in this folder is one model on every prompt of one prompt set, each prompt drawn from its fixed seed and scored by the judges named by their hashes; it holds every prompt's scores. Align and Real are 100x the mean judge score, R@1 and R@5 the share of images whose own concept the evaluation judge ranks first or in its top 5 among all concepts, FID is in judge features (lower is better).",
    '',
    `| file | model | weights | prompt set | prompts | sampling | ${metrics()
      .map((m) => m.column)
      .join(' | ')} | judges (eval, realism) | seconds |`,
    `| --- | --- | --- | --- | ---: | --- | ${metrics()
      .map(() => '---:')
      .join(' | ')} | --- | ---: |`,
  ];
  for (const { file, result: r } of evals) {
    const sampling = samplingLabel(r.sampling);
    // Images read from the cache were only scored: say so, or the time reads as a whole evaluation's.
    const seconds = r.seconds === undefined ? '' : `${r.seconds.toFixed(0)}${r.cached ? ' (images cached)' : ''}`;
    lines.push(
      `| ${file} | ${r.model} | ${short(r.modelSha256)} | ${r.promptSet} | ${r.prompts} | ${sampling} | ${metricCells(r, metrics()).join(' | ')} | ${short(r.judges.contrastive)}, ${short(r.judges.realism)} | ${seconds} |`,
    );
  }
  const commands = evals.map((e) => e.result.command).filter((c): c is string => c !== undefined);
  if (commands.length > 0) lines.push('', 'Made by:', '', '```sh', ...commands, '```');
  return `${lines.join('\n')}\n`;
}

/**
 * Rewrites `dir`/README.md from the evaluations in `dir`. Returns false, writing nothing,
 * when a README is there that this module did not write.
 */
export function writeEvalIndex(dir: string): boolean {
  const readme = join(dir, 'README.md');
  if (existsSync(readme) && !readFileSync(readme, 'utf8').startsWith(EVAL_INDEX_MARKER)) return false;
  writeFileAtomic(readme, renderEvalIndex(readEvaluations(dir)));
  return true;
}
