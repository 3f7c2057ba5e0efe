import type { Metric } from '../eval/metrics/metric.js';
import { metrics } from '../eval/metrics/registry.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { bootstrapPairedDifference, type Interval } from '../eval/winRate.js';
import { methodLabel, promptScores, summarize, type MethodSummary } from './paperTables.js';
import { BASE_UNIT, type UnitRecord } from './reproUnits.js';

/** An ordering the paper reports: `better` scores above `worse`. */
interface Claim {
  table: string;
  better: string;
  worse: string;
  /** The paper's words for it. */
  paper: string;
}

/** The orderings of the paper's Tables 2-5 (SD 1.5), checked against our numbers. */
export const PAPER_CLAIMS: readonly Claim[] = [
  { table: 'Table 2', better: 'self-dpo', worse: BASE_UNIT, paper: 'Self-DPO improves on the base' },
  { table: 'Table 2', better: 'self-dpo', worse: 'sft', paper: 'Self-DPO beats SFT' },
  { table: 'Table 2', better: 'self-dpo', worse: 'dpo', paper: 'Self-DPO beats Diffusion-DPO' },
  { table: 'Table 3', better: 'self-dpo', worse: 'self-dpo-blur', paper: 'random-image losers beat blurred ones' },
  { table: 'Table 3', better: 'self-dpo', worse: 'self-dpo-grid', paper: 'random-image losers beat grid-shuffled ones' },
  { table: 'Table 4', better: 'self-dpo-no-mse', worse: 'dpo', paper: 'Self-DPO without the MSE term still beats Diffusion-DPO' },
  { table: 'Table 5', better: 'self-dpo-web', worse: BASE_UNIT, paper: 'Self-DPO on web data improves on the base' },
  { table: 'Table 5', better: BASE_UNIT, worse: 'sft-web', paper: 'SFT on web data falls below the base' },
];

/** Whether a's interval lies wholly on the better side of b's (a point has an empty interval). */
function separated(a: Interval, b: Interval, higherIsBetter: boolean): boolean {
  const lo = (i: Interval): number => (Number.isFinite(i.low) ? i.low : i.mean);
  const hi = (i: Interval): number => (Number.isFinite(i.high) ? i.high : i.mean);
  if (!Number.isFinite(a.low) && !Number.isFinite(b.low)) return false;
  return higherIsBetter ? lo(a) > hi(b) : hi(a) < lo(b);
}

/** How a cell reads: which way the means lean, and whether the evidence is clear. */
type Cell = { name: string; lean: 'holds' | 'reversed' | 'tied'; clear: boolean };

type Scored = NonNullable<ReturnType<typeof promptScores>>;

/** Both methods' per-prompt scores on a set, in the same prompt order, checked to share their sample seeds. */
function pairedScores(units: readonly UnitRecord[], claim: Claim, set: PromptSetName): [Scored, Scored] {
  const better = promptScores(units, claim.better, set) as Scored;
  const worse = promptScores(units, claim.worse, set, better.ids) as Scored;
  better.ids.forEach((id, p) => {
    const [s1, s2] = [better.rows[0]?.[p]?.seed, worse.rows[0]?.[p]?.seed];
    if (s1 !== s2) throw new Error(`${set} prompt ${id}: ${claim.better} drew it from seed ${s1}, ${claim.worse} from seed ${s2}; paired comparisons need the same seeds`);
  });
  return [better, worse];
}

function compareCell(set: PromptSetName, metric: Metric, a: MethodSummary, b: MethodSummary, [better, worse]: [Scored, Scored]): Cell {
  const [x, y] = [a.scores[metric.name] as Interval, b.scores[metric.name] as Interval];
  const lean = x.mean === y.mean ? 'tied' : (metric.higherIsBetter ? x.mean > y.mean : x.mean < y.mean) ? 'holds' : 'reversed';
  const name = `${set} ${metric.name}`;
  if (!metric.perPrompt) {
    // FID: the two models' intervals across training seeds apart.
    const clear = lean === 'holds' ? separated(x, y, metric.higherIsBetter) : lean === 'reversed' ? separated(y, x, metric.higherIsBetter) : false;
    return { name, lean, clear };
  }
  // The same prompts drawn from the same sample seeds: the paired difference.
  const f = metric.perPrompt;
  const diff = bootstrapPairedDifference(
    better.rows.map((r) => r.map(f)),
    worse.rows.map((r) => r.map(f)),
  );
  const clear = lean === 'holds' ? diff.low > 0 : lean === 'reversed' ? diff.high < 0 : false;
  return { name, lean, clear };
}

/** How a clear cell is judged in the README and notebook 03. */
export const CLEAR_CELL_RULE =
  "A cell is clear when the 95% interval of the paired difference excludes 0: both models drew the same prompts from the same sample seeds, and the bootstrap resamples the prompts (shared) and each model's training seeds. FID, one number per model, is clear when the two models' 95% intervals across training seeds are apart.";

/**
 * One markdown line per claim the units can test: supported (some cells clearly the paper's
 * way, none clearly the other), contradicted, mixed, or not resolved (no cell clear either
 * way), with the cells named, and in how many cells the means lean the paper's way. Claims
 * whose methods did not run are left out.
 */
export function orderingChecks(units: readonly UnitRecord[]): string[] {
  const lines: string[] = [];
  for (const claim of PAPER_CLAIMS) {
    const cells: Cell[] = [];
    let oneSeed = false;
    for (const set of PROMPT_SETS) {
      const a = summarize(units, claim.better, set);
      const b = summarize(units, claim.worse, set);
      if (!a || !b) continue;
      if ((claim.better !== BASE_UNIT && a.seeds === 1) || (claim.worse !== BASE_UNIT && b.seeds === 1)) oneSeed = true;
      const scores = pairedScores(units, claim, set);
      for (const m of metrics().filter((x) => x.inClaims)) cells.push(compareCell(set, m, a, b, scores));
    }
    if (cells.length === 0) continue;
    const names = (f: (c: Cell) => boolean): string =>
      cells
        .filter(f)
        .map((c) => c.name)
        .join(', ') || 'none';
    const clearHolds = cells.filter((c) => c.clear && c.lean === 'holds').length;
    const clearReversed = cells.filter((c) => c.clear && c.lean === 'reversed').length;
    const verdict =
      clearHolds > 0 && clearReversed === 0
        ? 'supported here'
        : clearReversed > 0 && clearHolds === 0
          ? 'contradicted here'
          : clearHolds > 0
            ? 'mixed here'
            : 'not resolved here (no cell is clear either way)';
    const holds = cells.filter((c) => c.lean === 'holds').length;
    const tied = names((c) => c.lean === 'tied');
    lines.push(
      `- ${claim.table}, "${claim.paper}" (${methodLabel(claim.better)} over ${methodLabel(claim.worse)}): **${verdict}**. Clearly the paper's way in: ${names((c) => c.clear && c.lean === 'holds')}. Clearly the other way in: ${names((c) => c.clear && c.lean === 'reversed')}. The means lean the paper's way in ${holds} of ${cells.length} (prompt set, metric) cells${tied !== 'none' ? ` (tied in ${tied})` : ''}${oneSeed ? '; FID has no interval with one training seed' : ''}.`,
    );
  }
  if (lines.length === 0) lines.push('- No claim can be checked yet: the methods it compares have not been evaluated.');
  return lines;
}
