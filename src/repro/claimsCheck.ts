import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import type { EstimateTest } from '../eval/estimateTest.js';
import { holmAdjust } from '../eval/holm.js';
import type { Metric } from '../eval/metrics/metric.js';
import { metrics } from '../eval/metrics/registry.js';
import { pairedContrastTest } from '../eval/pairedTest.js';
import { runsContrastTest, type Runs } from '../eval/runsTest.js';
import { MARGIN_FRACTION, PAPER_CLAIMS, type ClaimLink, type ModelRef, type PaperClaim } from './paperClaims.js';
import { drawMeans, drawSeeds, methodLabel, promptScores } from './paperTables.js';
import { BASE_S_NAME, BASE_UNIT, unitBase, type UnitRecord } from './reproUnits.js';

/** How a claim, or one of its links, reads in the data (docs/PROTOCOL.md, "Statistics"). */
export type Verdict = 'supported' | 'contradicted' | 'not resolved';

/** One link of a claim, judged on the claim's primary cell (or, for a probe link, on the held-out probes). */
export interface LinkResult {
  link: ClaimLink;
  /** The headline difference in words: "Self-DPO − SFT", "Self-DPO's implicit accuracy − 0.75". */
  label: string;
  verdict: Verdict;
  /** The headline difference in the metric's units (implicit accuracy for probe links) with its test; undefined where the records allow none. */
  difference: EstimateTest | undefined;
  /** Margin links: the margin, MARGIN_FRACTION·(reference − base), with its test. */
  margin?: { label: string; test: EstimateTest | undefined };
  /**
   * What the verdict reads, each oriented so that above 0 is the claim's way: holds when every
   * interval lies above 0, contradicted when one lies below. `side` names a margin link's
   * contrast in a few words ("above −margin"), for the table's p and detectable-difference cells.
   */
  contrasts: Array<{ label: string; side?: string; test: EstimateTest | undefined }>;
  /** Why a link that reads the other way is not called contradicted: its reference shows no clear gain, so its margin means nothing. */
  note?: string;
}

/** A secondary cell: another (prompt set, metric) of a link's headline comparison. */
export interface SecondaryCell {
  /** The link's headline comparison: "Self-DPO − SFT". */
  comparison: string;
  set: PromptSetName;
  metric: Metric;
  /** Undefined where the records allow no test (FID of a trained model with one run). */
  test: EstimateTest | undefined;
  /** The model the estimate favours (by the metric's better direction); undefined at exactly 0. */
  favours?: string;
  /** The p-value adjusted by Holm's method across the claim's secondary cells that have a test. */
  holm?: number;
}

export interface ClaimResult {
  claim: PaperClaim;
  /**
   * 'not run' when a model the claim compares has no records, 'waiting' when a trained model has
   * some of its training seeds but not all: nothing is judged from part of a model's runs.
   */
  verdict: Verdict | 'not run' | 'waiting';
  /**
   * What is missing: for 'not run', "curated-val of SFT (base-L)", "the held-out probe of
   * Self-DPO"; for 'waiting', each model's unfinished training seeds, "SFT (base-L): seeds 2, 3 of 1, 2, 3".
   */
  missing: string[];
  links: LinkResult[];
  secondary: SecondaryCell[];
}

/** A model as the report names it: "Self-DPO", "SFT (base-L)", "base-S". */
export function modelLabel(ref: ModelRef): string {
  if (ref.method === BASE_UNIT) return ref.base;
  return ref.base === BASE_S_NAME ? methodLabel(ref.method) : `${methodLabel(ref.method)} (${ref.base})`;
}

/**
 * Each claim judged from the units (docs/PROTOCOL.md, "Statistics"): every link on the claim's
 * primary cell; the claim is supported when every link holds, contradicted when any link reads
 * clearly the other way, and not resolved otherwise. Secondary cells get Holm-adjusted p-values
 * across the claim and do not change the verdict. A claim whose models have no units (base-L's
 * before base-L runs) is 'not run'; one whose trained models have not finished every training
 * seed in `seeds` (the preset's; by default every seed any trained unit has) is 'waiting', since
 * a model with one run would enter the test like the base, as if runs did not differ.
 */
export function checkClaims(units: readonly UnitRecord[], options: { claims?: readonly PaperClaim[]; seeds?: readonly number[] } = {}): ClaimResult[] {
  const seeds = options.seeds ?? trainingSeeds(units);
  return (options.claims ?? PAPER_CLAIMS).map((claim) => checkClaim(units, claim, seeds));
}

/** Every training seed some trained unit ran with, in order. */
function trainingSeeds(units: readonly UnitRecord[]): number[] {
  return [...new Set(units.filter((u) => u.method !== BASE_UNIT).map((u) => u.seed))].sort((a, b) => a - b);
}

function checkClaim(units: readonly UnitRecord[], claim: PaperClaim, seeds: readonly number[]): ClaimResult {
  const primary = claim.primary;
  const metric = primary ? metricNamed(primary.metric) : undefined;
  const missing = [...new Set(claim.links.flatMap((link) => missingFor(units, link, primary?.set)))];
  if (missing.length > 0) return { claim, verdict: 'not run', missing, links: [], secondary: [] };
  const unfinished = unfinishedSeeds(units, claim.links, seeds, primary?.set);
  if (unfinished.length > 0) return { claim, verdict: 'waiting', missing: unfinished, links: [], secondary: [] };
  const links = claim.links.map((link) => {
    if (isProbeLink(link)) return probeLink(units, link);
    if (!primary || !metric) throw new Error(`claim (${claim.id}): a link on scores needs the claim's primary cell`);
    return scoreLink(units, link, primary.set, metric);
  });
  const verdict: Verdict = links.every((l) => l.verdict === 'supported') ? 'supported' : links.some((l) => l.verdict === 'contradicted') ? 'contradicted' : 'not resolved';
  const secondary = primary ? secondaryCells(units, claim.links, primary) : [];
  const tested = secondary.filter((c) => c.test !== undefined);
  holmAdjust(tested.map((c) => (c.test as EstimateTest).p)).forEach((p, i) => ((tested[i] as SecondaryCell).holm = p));
  return { claim, verdict, missing: [], links, secondary };
}

function metricNamed(name: string): Metric {
  const metric = metrics().find((m) => m.name === name);
  if (!metric)
    throw new Error(
      `a claim's primary metric '${name}' is not registered (registered: ${metrics()
        .map((m) => m.name)
        .join(', ')})`,
    );
  return metric;
}

type ProbeLink = Extract<ClaimLink, { kind: 'probeAbove' | 'probeBetter' }>;
type ScoreLink = Exclude<ClaimLink, ProbeLink>;

function isProbeLink(link: ClaimLink): link is ProbeLink {
  return link.kind === 'probeAbove' || link.kind === 'probeBetter';
}

/** The base model a model was post-trained from. */
function baseOf(ref: ModelRef): ModelRef {
  return { method: BASE_UNIT, base: ref.base };
}

function unitsOf(units: readonly UnitRecord[], ref: ModelRef): UnitRecord[] {
  return units.filter((u) => u.method === ref.method && unitBase(u) === ref.base);
}

/** The link's two headline models (the difference it reports and its secondary cells compare), for a link on scores. */
function headline(link: ScoreLink): [ModelRef, ModelRef] {
  switch (link.kind) {
    case 'better':
      return [link.better, link.worse];
    case 'noWorse':
    case 'close':
      return [link.model, link.reference];
    case 'noGain':
      return [link.model, baseOf(link.reference)];
  }
}

/** Every model a link reads: a margin link's reference base too. */
function modelsOf(link: ClaimLink): ModelRef[] {
  switch (link.kind) {
    case 'probeAbove':
      return [link.model];
    case 'probeBetter':
    case 'better':
      return [link.better, link.worse];
    default:
      return [link.model, link.reference, baseOf(link.reference)];
  }
}

/** Whether a unit holds what a link reads of it: its held-out probe, or its evaluation of the primary set. */
function hasRecords(link: ClaimLink, set: PromptSetName | undefined): (u: UnitRecord) => boolean {
  return isProbeLink(link) ? (u) => u.probe.length > 0 : (u) => set !== undefined && u.evals[set] !== undefined;
}

/** What a link needs that has no records: models without an evaluation of the primary set, or without a held-out probe. */
function missingFor(units: readonly UnitRecord[], link: ClaimLink, set: PromptSetName | undefined): string[] {
  const has = hasRecords(link, set);
  const what = isProbeLink(link) ? 'the held-out probe' : (set ?? 'the primary cell');
  return modelsOf(link)
    .filter((r) => !unitsOf(units, r).some(has))
    .map((r) => `${what} of ${modelLabel(r)}`);
}

/** Each trained model of the links with the training seeds it has not finished: "SFT (base-L): seeds 2, 3 of 1, 2, 3". */
function unfinishedSeeds(units: readonly UnitRecord[], links: readonly ClaimLink[], seeds: readonly number[], set: PromptSetName | undefined): string[] {
  const lacking = new Map<string, number[]>();
  for (const link of links) {
    const has = hasRecords(link, set);
    for (const ref of modelsOf(link).filter((r) => r.method !== BASE_UNIT)) {
      const done = new Set(
        unitsOf(units, ref)
          .filter(has)
          .map((u) => u.seed),
      );
      const left = seeds.filter((s) => !done.has(s));
      if (left.length > 0) lacking.set(modelLabel(ref), left);
    }
  }
  return [...lacking].map(([model, left]) => `${model}: seed${left.length > 1 ? 's' : ''} ${left.join(', ')} of ${seeds.join(', ')}`);
}

/**
 * The test of sum_m weight_m · score_m on one (prompt set, metric): paired over prompts for a
 * per-prompt metric, across training runs (Welch) for a metric of the whole set (FID).
 */
function cellTest(units: readonly UnitRecord[], terms: ReadonlyArray<[ModelRef, number]>, set: PromptSetName, metric: Metric): EstimateTest | undefined {
  if (metric.perPrompt) {
    const values = pairedValues(
      units,
      terms.map(([ref]) => ref),
      set,
      metric.perPrompt,
    );
    return pairedContrastTest(terms.map(([, weight], i) => ({ weight, values: values[i] as number[][] })));
  }
  const runs = terms.map(([ref, weight]): { weight: number; runs: Runs } => ({
    weight,
    runs: { values: unitsOf(units, ref).flatMap((u) => (u.evals[set] ? [metric.value(u.evals[set])] : [])), fixed: ref.method === BASE_UNIT },
  }));
  return runsContrastTest(runs);
}

/**
 * values[m][s][p]: model m's score of prompt p under its training seed s, averaged over the
 * prompt's draws, every model in the first model's prompt order, checked to share every
 * prompt's sample seeds (the same draws from the same seeds).
 */
function pairedValues(units: readonly UnitRecord[], refs: readonly ModelRef[], set: PromptSetName, score: NonNullable<Metric['perPrompt']>): number[][][] {
  const first = refs[0] as ModelRef;
  const lead = promptScores(unitsOf(units, first), first.method, set);
  if (!lead) throw new Error(`${modelLabel(first)} has no evaluation of ${set}`);
  const scored = refs.map((ref, m) => {
    if (m === 0) return lead;
    const s = promptScores(unitsOf(units, ref), ref.method, set, lead.ids);
    if (!s) throw new Error(`${modelLabel(ref)} has no evaluation of ${set}`);
    return s;
  });
  lead.ids.forEach((id, p) => {
    const seeds = drawSeeds(lead.rows[0]?.[p] ?? []);
    scored.forEach((s, m) => {
      for (const row of s.rows) {
        const other = drawSeeds(row[p] ?? []);
        if (other !== seeds)
          throw new Error(`${set} prompt ${id}: ${modelLabel(first)} drew it from seed(s) ${seeds}, ${modelLabel(refs[m] as ModelRef)} from seed(s) ${other}; paired comparisons need the same seeds`);
      }
    });
  });
  return scored.map((s) => drawMeans(s.rows, score));
}

/** A test turned around (for a metric where lower is better): the estimate and interval negated, p and the minimal detectable difference unchanged. */
function negate(t: EstimateTest | undefined): EstimateTest | undefined {
  return t && { ...t, estimate: -t.estimate, low: -t.high, high: -t.low };
}

/** Holds when every contrast's interval lies above 0, contradicted when any lies below 0. */
function linkVerdict(contrasts: ReadonlyArray<{ test: EstimateTest | undefined }>): Verdict {
  if (contrasts.every((c) => c.test !== undefined && c.test.low > 0)) return 'supported';
  if (contrasts.some((c) => c.test !== undefined && c.test.high < 0)) return 'contradicted';
  return 'not resolved';
}

function scoreLink(units: readonly UnitRecord[], link: ScoreLink, set: PromptSetName, metric: Metric): LinkResult {
  // Contrasts are taken in the metric's better direction, so that above 0 is always the claim's way.
  const sign = metric.higherIsBetter ? 1 : -1;
  const f = MARGIN_FRACTION;
  const test = (terms: ReadonlyArray<[ModelRef, number]>): EstimateTest | undefined => cellTest(units, terms, set, metric);
  const [a, b] = headline(link);
  const label = `${modelLabel(a)} − ${modelLabel(b)}`;
  const difference = test([
    [a, 1],
    [b, -1],
  ]);
  if (link.kind === 'better') {
    const contrasts = [{ label: `${label} better than 0`, test: sign > 0 ? difference : negate(difference) }];
    return { link, label, verdict: linkVerdict(contrasts), difference, contrasts };
  }
  const reference = link.reference;
  const base = baseOf(reference);
  const [m, r, o] = [modelLabel(link.model), modelLabel(reference), modelLabel(base)];
  const gain = `${f}·(${r} − ${o})`;
  const margin = {
    label: gain,
    test: test([
      [reference, f],
      [base, -f],
    ]),
  };
  const contrasts: LinkResult['contrasts'] = [];
  // Each margin link as linear contrasts of the three models' paired scores (docs/PROTOCOL.md, "Statistics").
  if (link.kind === 'noWorse' || link.kind === 'close') {
    // model − reference > −f·(reference − base)  ⇔  model − (1 − f)·reference − f·base > 0.
    contrasts.push({
      label: `${m} − ${r} above −${gain}`,
      side: 'above −margin',
      test: test([
        [link.model, sign],
        [reference, -(1 - f) * sign],
        [base, -f * sign],
      ]),
    });
  }
  if (link.kind === 'close') {
    // model − reference < f·(reference − base)  ⇔  (1 + f)·reference − f·base − model > 0.
    contrasts.push({
      label: `${m} − ${r} below +${gain}`,
      side: 'below +margin',
      test: test([
        [reference, (1 + f) * sign],
        [base, -f * sign],
        [link.model, -sign],
      ]),
    });
  }
  if (link.kind === 'noGain') {
    // model − base < f·(reference − base)  ⇔  f·reference + (1 − f)·base − model > 0.
    contrasts.push({
      label: `${m} − ${o} below ${gain}`,
      side: 'below margin',
      test: test([
        [reference, f * sign],
        [base, (1 - f) * sign],
        [link.model, -sign],
      ]),
    });
  }
  const verdict = linkVerdict(contrasts);
  // A margin is a share of the reference's gain: when that gain is not clearly there (the
  // margin's interval reaches 0 or below, taken in the metric's better direction), a contrast
  // below 0 says nothing against the claim: two identical models would read "not close" and a
  // model equal to its base "gains more than the reference". The link can still hold: a margin
  // at or below 0 only asks more of the model than a clear gain would.
  const clearGain = margin.test !== undefined && (sign > 0 ? margin.test.low > 0 : margin.test.high < 0);
  if (verdict === 'contradicted' && !clearGain)
    return { link, label, verdict: 'not resolved', difference, margin, contrasts, note: `${r} shows no clear gain over ${o} here, so its margin cannot tell against the claim` };
  return { link, label, verdict, difference, margin, contrasts };
}

/** The implicit accuracy of each of a model's runs at its last held-out probe, with the floor its pairs set on the standard error. */
function probeRuns(units: readonly UnitRecord[], ref: ModelRef): Runs {
  const runs = unitsOf(units, ref).filter((u) => u.probe.length > 0);
  const values = runs.map(lastProbeAccuracy);
  const pairs = runs.map((u) => u.config?.log.evalPairs);
  if (pairs.some((n) => n === undefined)) return { values };
  // Each run's accuracy is a share of its n probe pairs: the mean over k runs varies at least as
  // a binomial share, p(1 - p)·sum(1/n)/k², whatever the runs' own spread. p is taken with one
  // success and one failure added (Laplace), so a run at 0 or 1 still carries its pairs' uncertainty.
  const n = pairs as number[];
  const total = n.reduce((s, x) => s + x, 0);
  const p = (values.reduce((s, v, i) => s + v * (n[i] as number), 0) + 1) / (total + 2);
  return { values, minSe: Math.sqrt((p * (1 - p) * n.reduce((s, x) => s + 1 / x, 0)) / values.length ** 2) };
}

/** A run's implicit accuracy at its last probe step: one probe per unit, its method's own held-out pairs. */
function lastProbeAccuracy(unit: UnitRecord): number {
  const last = Math.max(...unit.probe.map((r) => r.step));
  const at = new Map(unit.probe.filter((r) => r.step === last).map((r) => [`${r.set}/${r.downgrade}`, r.implicit_acc]));
  if (at.size > 1) throw new Error(`${unit.unit}: ${at.size} held-out probes at step ${last} (${[...at.keys()].join(', ')}); the claims check reads one probe per run, its method's own`);
  return [...at.values()][0] as number;
}

function probeLink(units: readonly UnitRecord[], link: ProbeLink): LinkResult {
  let label: string;
  let difference: EstimateTest | undefined;
  if (link.kind === 'probeAbove') {
    label = `${modelLabel(link.model)}'s implicit accuracy − ${link.level}`;
    difference = runsContrastTest([{ weight: 1, runs: probeRuns(units, link.model) }], -link.level);
  } else {
    label = `${modelLabel(link.better)}'s implicit accuracy − ${modelLabel(link.worse)}'s`;
    difference = runsContrastTest([
      { weight: 1, runs: probeRuns(units, link.better) },
      { weight: -1, runs: probeRuns(units, link.worse) },
    ]);
  }
  const contrasts = [{ label: `${label} above 0`, test: difference }];
  return { link, label, verdict: linkVerdict(contrasts), difference, contrasts };
}

/** Every (prompt set, metric) cell of each score link's headline comparison but the primary one. */
function secondaryCells(units: readonly UnitRecord[], links: readonly ClaimLink[], primary: { set: PromptSetName; metric: string }): SecondaryCell[] {
  const cells: SecondaryCell[] = [];
  for (const link of links) {
    if (isProbeLink(link)) continue;
    const [a, b] = headline(link);
    const comparison = `${modelLabel(a)} − ${modelLabel(b)}`;
    for (const set of PROMPT_SETS) {
      if (!unitsOf(units, a).some((u) => u.evals[set]) || !unitsOf(units, b).some((u) => u.evals[set])) continue;
      for (const metric of metrics().filter((m) => m.inClaims)) {
        if (set === primary.set && metric.name === primary.metric) continue;
        const test = cellTest(
          units,
          [
            [a, 1],
            [b, -1],
          ],
          set,
          metric,
        );
        const better = test ? test.estimate * (metric.higherIsBetter ? 1 : -1) : 0;
        cells.push({ comparison, set, metric, test, ...(better !== 0 ? { favours: modelLabel(better > 0 ? a : b) } : {}) });
      }
    }
  }
  return cells;
}
