import type { EstimateTest } from '../eval/estimateTest.js';
import { metrics } from '../eval/metrics/registry.js';
import { checkClaims, type ClaimResult, type LinkResult, type SecondaryCell } from './claimsCheck.js';
import { HIGH_IMPLICIT_ACCURACY, MARGIN_FRACTION } from './paperClaims.js';
import type { UnitRecord } from './reproUnits.js';

/** How the claims are judged, in the README and notebook 03 (docs/PROTOCOL.md, "Statistics"). */
export const CLAIMS_RULE = [
  `Each claim named its primary comparison before any run: Align on curated-val, or for (d) each run's implicit accuracy at its last held-out probe ("high" is above ${HIGH_IMPLICIT_ACCURACY}).`,
  `A link holds when the 95% interval of its difference lies on the claim's side of 0, and reads the other way when it lies on the other side. A claim is **supported** when every link holds, **contradicted** when any link reads the other way, and **not resolved** otherwise; the minimal detectable difference is the smallest true difference the design finds at 80% power and alpha 0.05. A claim is judged only when each of its trained models has every training seed: until then it is **waiting**.`,
  `Differences are paired: every model drew the same prompts from the same sample seeds. The standard error is the sd of the per-prompt differences over sqrt(n) when every model has one training seed (on t with n - 1 df); with several, training runs can shift all their prompts together, and the variance is the prompts' part (less each run's own noise) plus each model's variance of its run means over their number (on Welch-Satterthwaite df). The interval is the difference ± t(0.975) standard errors (1.96 on the normal), the p-value two-sided, the minimal detectable difference (t(0.975) + t(0.8)) standard errors (2.80 on the normal), so the three cannot disagree. Against the base, 3 runs estimate how much runs differ only roughly: on simulated scores with no true difference this rejects in 5.5-8% of datasets at nominal 5% (5.0% with 5 or more runs; \`src/eval/pairedTest.ts\`). With one training seed per model the interval covers prompts and sample draws only, not how much training runs differ.`,
  `"Close" (c), "no worse" (e) and "does not help" (f) are measured against ${MARGIN_FRACTION} of the reference method's gain over its base, tested as contrasts of the three models' paired scores, so that the margin's own uncertainty counts; their p-values and minimal detectable differences are those of these contrasts, the headline difference beside them is context. So (e) can hold while Self-DPO is clearly below Diffusion-DPO, if by less than half of Diffusion-DPO's gain, and (f) while SFT clearly helps, if by less than half of Self-DPO's gain: the headline difference shows which. Where the reference shows no clear gain, a margin link can hold but not read the other way.`,
  `Implicit accuracy and FID, one number per run, are compared across runs (Welch's t; a probe's share of its pairs floors its standard error).`,
  `Secondary cells, every other (prompt set, metric) of each link's two models, are reported with p-values adjusted by Holm's method across the claim's cells: reported, not voted, they never change a verdict.`,
].join(' ');

/** "+0.42 [0.10, 0.74]". */
function formatDifference(t: EstimateTest, digits: number): string {
  // A value that rounds to 0 prints without a sign ("-0.00" reads as a direction it does not have).
  const f = (x: number): string => (Number(x.toFixed(digits)) === 0 ? (0).toFixed(digits) : x.toFixed(digits));
  return `${Number(f(t.estimate)) > 0 ? '+' : ''}${f(t.estimate)} [${f(t.low)}, ${f(t.high)}]`;
}

function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** Digits of the primary metric, or of implicit accuracy for a probe link. */
function digitsOf(result: ClaimResult, link: LinkResult): number {
  if (link.link.kind === 'probeAbove' || link.link.kind === 'probeBetter') return 3;
  return metrics().find((m) => m.name === result.claim.primary?.metric)?.digits ?? 2;
}

function linkRow(result: ClaimResult, link: LinkResult, first: boolean, secondary: string): string {
  const c = result.claim;
  const d = digitsOf(result, link);
  const t = link.difference;
  const margin = link.margin?.test ? `; margin ${link.margin.label} = ${formatDifference(link.margin.test, d)}` : '';
  // A margin link's verdict reads its contrasts, not the headline difference: their p and detectable difference, each named by its side.
  const deciding = link.margin ? link.contrasts : t ? [{ test: t }] : [];
  const each = (f: (x: EstimateTest) => string): string =>
    deciding.map((x: { side?: string; test: EstimateTest | undefined }) => `${x.side ? `${x.side}: ` : ''}${x.test ? f(x.test) : 'no test'}`).join('; ');
  const cells = [
    first ? `(${c.id}) ${c.claim} (${c.paper})` : '',
    first ? `**${result.verdict}**` : '',
    `${link.label}: ${link.verdict === 'supported' ? 'holds' : link.verdict}${link.note ? ` (${link.note})` : ''}`,
    t ? `${formatDifference(t, d)}${margin}` : 'no test (one run)',
    each((x) => formatP(x.p)),
    each((x) => x.mdd.toFixed(d)),
    first ? secondary : '',
  ];
  return `|${cells.join('|')}|`;
}

/** "2 of 22: Self-DPO − SFT, favouring SFT: curated-val Real, keyword-only Real" (each cell's Holm p is in the lines below the table). */
function secondarySummary(cells: readonly SecondaryCell[]): string {
  if (cells.length === 0) return 'none';
  const tested = cells.filter((c) => c.holm !== undefined);
  const groups = new Map<string, string[]>();
  for (const c of tested.filter((x) => (x.holm as number) < 0.05)) {
    const key = `${c.comparison}, favouring ${c.favours ?? 'neither'}`;
    groups.set(key, [...(groups.get(key) ?? []), `${c.set} ${c.metric.name}`]);
  }
  const clear = [...groups.values()].reduce((n, g) => n + g.length, 0);
  const list = [...groups].map(([key, names]) => `${key}: ${names.join(', ')}`);
  return `${clear} of ${tested.length}${list.length > 0 ? `; ${list.join('; ')}` : ''}${tested.length < cells.length ? ` (${cells.length - tested.length} more without a test: one run)` : ''}`;
}

/** One line per secondary cell of a claim, and the contrasts of its margin links. */
function details(result: ClaimResult): string[] {
  const lines: string[] = [];
  for (const link of result.links) {
    if (!link.margin) continue;
    const d = digitsOf(result, link);
    const tests = link.contrasts.map((c) => `${c.label}: ${c.test ? `${formatDifference(c.test, d)}, p ${formatP(c.test.p)}, minimal detectable ${c.test.mdd.toFixed(d)}` : 'no test'}`).join('; ');
    lines.push(`- (${result.claim.id}) ${link.label}, tested as contrasts that must lie above 0: ${tests}.`);
  }
  if (result.secondary.length > 0) {
    const cells = result.secondary.map((c) =>
      c.test
        ? `${c.comparison}, ${c.set} ${c.metric.name} ${formatDifference(c.test, c.metric.digits)}, p ${formatP(c.test.p)}, Holm p ${formatP(c.holm as number)}`
        : `${c.comparison}, ${c.set} ${c.metric.name}: no test (one run)`,
    );
    lines.push(`- (${result.claim.id}) secondary cells: ${cells.join('; ')}.`);
  }
  return lines;
}

/**
 * The claims section of a reproduction's README: the rule, a table with one row per link (each
 * claim's verdict on its first row, with its primary difference, interval, p-value, minimal
 * detectable difference and the secondary cells clear after Holm's correction), then every
 * secondary cell and every margin contrast.
 */
export function claimsMarkdown(units: readonly UnitRecord[], seeds?: readonly number[]): string[] {
  const results = checkClaims(units, { seeds });
  const rows: string[] = [];
  for (const r of results) {
    if (r.verdict === 'not run' || r.verdict === 'waiting') {
      const what = r.verdict === 'not run' ? 'no records' : 'training seeds not finished';
      rows.push(`|(${r.claim.id}) ${r.claim.claim} (${r.claim.paper})|${r.verdict}|${what}: ${r.missing.join('; ')}|||||`);
      continue;
    }
    const summary = secondarySummary(r.secondary);
    r.links.forEach((l, i) => rows.push(linkRow(r, l, i === 0, summary)));
  }
  return [
    CLAIMS_RULE,
    '',
    '|claim|verdict|link on the primary comparison|difference [95% interval]|p (of each contrast, for a margin link)|minimal detectable difference (likewise)|secondary cells clear at Holm p < 0.05|',
    '|:-|:-|:-|:-|:-|:-|:-|',
    ...rows,
    '',
    ...results.flatMap(details),
  ];
}
