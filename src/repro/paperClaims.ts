import { PROMPT_SETS } from '../eval/promptSets.js';
import type { Interval } from '../eval/winRate.js';
import { methodLabel, summarize, type MethodSummary } from './paperTables.js';
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

/** The metrics compared, with which direction is better. */
const METRICS: ReadonlyArray<{ key: 'align' | 'r1' | 'real' | 'fid'; name: string; higherIsBetter: boolean }> = [
  { key: 'align', name: 'Align', higherIsBetter: true },
  { key: 'r1', name: 'R@1', higherIsBetter: true },
  { key: 'real', name: 'Real', higherIsBetter: true },
  { key: 'fid', name: 'FID', higherIsBetter: false },
];

/** Whether a's interval lies wholly on the better side of b's (a point has an empty interval). */
function separated(a: Interval, b: Interval, higherIsBetter: boolean): boolean {
  const lo = (i: Interval): number => (Number.isFinite(i.low) ? i.low : i.mean);
  const hi = (i: Interval): number => (Number.isFinite(i.high) ? i.high : i.mean);
  if (!Number.isFinite(a.low) && !Number.isFinite(b.low)) return false;
  return higherIsBetter ? lo(a) > hi(b) : hi(a) < lo(b);
}

/**
 * One markdown line per claim the units can test: in how many (prompt set, metric) cells the
 * paper's ordering holds for the means, in how many the 95% intervals are apart, and the
 * cells where it is reversed. Claims whose methods did not run are left out.
 */
export function orderingChecks(units: readonly UnitRecord[]): string[] {
  const lines: string[] = [];
  for (const claim of PAPER_CLAIMS) {
    let cells = 0;
    let holds = 0;
    let clear = 0;
    const reversed: string[] = [];
    const tied: string[] = [];
    let oneSeed = false;
    for (const set of PROMPT_SETS) {
      const a = summarize(units, claim.better, set);
      const b = summarize(units, claim.worse, set);
      if (!a || !b) continue;
      if ((claim.better !== BASE_UNIT && a.seeds === 1) || (claim.worse !== BASE_UNIT && b.seeds === 1)) oneSeed = true;
      for (const m of METRICS) {
        cells += 1;
        const [x, y] = [(a as MethodSummary)[m.key], (b as MethodSummary)[m.key]];
        const ok = m.higherIsBetter ? x.mean > y.mean : x.mean < y.mean;
        if (ok) holds += 1;
        else if (x.mean === y.mean) tied.push(`${set} ${m.name}`);
        else reversed.push(`${set} ${m.name}`);
        if (ok && separated(x, y, m.higherIsBetter)) clear += 1;
      }
    }
    if (cells === 0) continue;
    const verdict = holds === cells ? 'agrees' : holds === 0 ? 'disagrees' : holds * 2 > cells ? 'mostly agrees' : holds * 2 === cells ? 'is mixed' : 'mostly disagrees';
    lines.push(
      `- ${claim.table}, "${claim.paper}" (${methodLabel(claim.better)} over ${methodLabel(claim.worse)}): ${verdict === 'is mixed' ? 'the evidence is mixed' : verdict} here. The ordering holds in ${holds} of ${cells} (prompt set, metric) cells, ${clear} of them with the 95% intervals apart${oneSeed ? ' (FID has no interval with one training seed)' : ''}${reversed.length > 0 ? `; reversed in ${reversed.join(', ')}` : ''}${tied.length > 0 ? `; tied in ${tied.join(', ')}` : ''}.`,
    );
  }
  if (lines.length === 0) lines.push('- No claim can be checked yet: the methods it compares have not been evaluated.');
  return lines;
}
