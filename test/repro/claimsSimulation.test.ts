import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMPT_SETS } from '../../src/data/evalPrompts.js';
import { checkClaims, type ClaimResult } from '../../src/repro/claimsCheck.js';
import { PAPER_CLAIMS, type PaperClaim } from '../../src/repro/paperClaims.js';
import { BASE_S_NAME, BASE_UNIT, type UnitRecord } from '../../src/repro/reproUnits.js';
import { Rng } from '../../src/util/rng.js';
import { evalOf, unitOf } from './claimsFixture.js';

/**
 * The claims check fed synthetic per-prompt scores with a known effect (docs/PROTOCOL.md,
 * "Statistics"). Every prompt set has its prompts' own difficulty (shared by every model, as
 * the same prompts are drawn from the same sample seeds) and every score its own noise; a
 * method's effect shifts its Align on every prompt. The bands below are about 3.5 binomial
 * standard deviations wide around the rate the test should have, so a correct check cannot
 * flake and one that is off by a third fails.
 */
const PROMPTS = 80;

/** One dataset: the base and each method of `effects` (its Align shift) with `seeds` training runs, on every prompt set. */
function simulate(rng: Rng, effects: Record<string, number>, seeds = 1, runSd = 0): UnitRecord[] {
  const prompts = Object.fromEntries(PROMPT_SETS.map((set) => [set, Array.from({ length: PROMPTS }, () => [rng.normal(), rng.normal()] as const)]));
  const units: UnitRecord[] = [];
  for (const [method, effect] of Object.entries({ [BASE_UNIT]: 0, ...effects })) {
    for (let s = 1; s <= (method === BASE_UNIT ? 1 : seeds); s++) {
      const shift = method === BASE_UNIT ? 0 : runSd * rng.normal();
      const evals = Object.fromEntries(
        PROMPT_SETS.map((set) => {
          const p = prompts[set] as Array<readonly [number, number]>;
          const align = p.map(([q]) => 40 + 8 * q + effect + shift + 2 * rng.normal());
          // The concept ranks first for about 3 prompts in 10, more often for easy prompts.
          const rank = p.map(([q]) => (q + 0.8 * rng.normal() > 0.5 ? 1 : 2 + rng.int(20)));
          const real = p.map(([, r]) => 50 + 10 * r + 4 * rng.normal());
          return [set, evalOf(set, { align, rank, real }, 1 + 0.1 * rng.normal())];
        }),
      );
      units.push(unitOf(method, method === BASE_UNIT ? 0 : s, evals));
    }
  }
  return units;
}

const CLAIM_A = PAPER_CLAIMS.find((c) => c.id === 'a') as PaperClaim;
/** A claim of one link, Self-DPO above the base on curated-val Align: the power check's. */
const ONE_LINK: PaperClaim = {
  id: 'test',
  claim: 'Self-DPO > base',
  paper: 'test',
  primary: { set: 'curated-val', metric: 'Align' },
  links: [{ kind: 'better', better: { method: 'self-dpo', base: BASE_S_NAME }, worse: { method: BASE_UNIT, base: BASE_S_NAME } }],
};

const judge = (units: UnitRecord[], claim: PaperClaim): ClaimResult => checkClaims(units, { claims: [claim] })[0] as ClaimResult;

const inBand = (rate: number, low: number, high: number, what: string): void => assert.ok(rate >= low && rate <= high, `${what}: ${(100 * rate).toFixed(1)}%, outside ${100 * low}-${100 * high}%`);

test('a large effect is supported, the same effect reversed contradicted (one and three training seeds)', () => {
  const rng = new Rng(1);
  // Self-DPO 2 Align points above SFT, SFT 2 above the base: about 6 standard errors per link.
  for (let i = 0; i < 20; i++) {
    assert.equal(judge(simulate(rng, { sft: 2, 'self-dpo': 4 }), CLAIM_A).verdict, 'supported');
    assert.equal(judge(simulate(rng, { sft: -2, 'self-dpo': -4 }), CLAIM_A).verdict, 'contradicted');
  }
  // Three runs per method, each shifted as a whole by N(0, 0.2²): FID gets its test across runs.
  const three = judge(simulate(rng, { sft: 2, 'self-dpo': 4 }, 3, 0.2), CLAIM_A);
  assert.equal(three.verdict, 'supported');
  assert.ok(three.secondary.every((c) => c.test !== undefined));
  assert.equal(judge(simulate(rng, { sft: -2, 'self-dpo': -4 }, 3, 0.2), CLAIM_A).verdict, 'contradicted');
});

test('with no effect, claim (a) is not resolved in about 95% of datasets, and Holm keeps the family-wise false positives across its secondary cells near 5%', () => {
  const rng = new Rng(2);
  const sims = 1000;
  let unresolved = 0;
  let anySecondaryHolm = 0;
  let anySecondaryRaw = 0;
  for (let i = 0; i < sims; i++) {
    const r = judge(simulate(rng, { sft: 0, 'self-dpo': 0 }), CLAIM_A);
    if (r.verdict === 'not resolved') unresolved++;
    const tested = r.secondary.filter((c) => c.test);
    // 2 links x (3 sets x 3 per-prompt metrics - the primary); FID has no test with one run.
    assert.equal(tested.length, 16);
    if (tested.some((c) => (c.holm as number) < 0.05)) anySecondaryHolm++;
    if (tested.some((c) => (c.test?.p as number) < 0.05)) anySecondaryRaw++;
  }
  // A chain of two links is resolved when a link reads clearly either way: about 5% (2.5% per link and direction, less their overlap).
  inBand(unresolved / sims, 0.925, 0.975, 'not resolved');
  // Holm holds the chance of any false positive among the 16 cells at or below 5% (near it: the cells are nearly independent).
  inBand(anySecondaryHolm / sims, 0.025, 0.075, 'any secondary cell clear after Holm');
  // Uncorrected, 16 cells at 5% give a false positive in most datasets: the correction is what the v1 rule lacked.
  assert.ok(anySecondaryRaw / sims > 0.4, `uncorrected: ${(100 * anySecondaryRaw) / sims}%`);
});

test('at a true effect equal to the reported minimal detectable difference the primary test rejects in about 80% of datasets', () => {
  const rng = new Rng(3);
  const sims = 1000;
  let mdd = 0;
  let nullRejections = 0;
  for (let i = 0; i < sims; i++) {
    const r = judge(simulate(rng, { 'self-dpo': 0 }), ONE_LINK);
    mdd += r.links[0]?.difference?.mdd as number;
    if (r.verdict !== 'not resolved') nullRejections++;
  }
  mdd /= sims;
  inBand(nullRejections / sims, 0.026, 0.074, 'one link, no effect: resolved');
  let supported = 0;
  for (let i = 0; i < sims; i++) if (judge(simulate(rng, { 'self-dpo': mdd }), ONE_LINK).verdict === 'supported') supported++;
  inBand(supported / sims, 0.75, 0.85, `power at the reported minimal detectable difference (${mdd.toFixed(3)} Align)`);
});

/** Base and Self-DPO on curated-val with `draws` images per prompt, each image its own sampler noise (sd 4) around its prompt's level. */
function simulateDraws(rng: Rng, effect: number, draws: number): UnitRecord[] {
  const level = Array.from({ length: PROMPTS }, () => 40 + 8 * rng.normal());
  return [0, effect].map((shift, m) => {
    const scores = Array.from({ length: draws }, () => level.map((q) => q + shift + 4 * rng.normal()));
    const e = evalOf('curated-val', { align: scores[0] as number[], rank: level.map(() => 3), real: level.map(() => 50) }, 1);
    const more = scores
      .slice(1)
      .flatMap((s, k) => evalOf('curated-val', { align: s, rank: level.map(() => 3), real: level.map(() => 50) }, 1, 1000 * (k + 1)).perPrompt.map((p) => ({ ...p, draw: k + 1 })));
    return unitOf(m === 0 ? BASE_UNIT : 'self-dpo', m, { 'curated-val': { ...e, ...(draws > 1 ? { draws } : {}), perPrompt: [...e.perPrompt, ...more] } });
  });
}

test('two draws per prompt: no effect stays resolved in about 5% of datasets, and the minimal detectable difference shrinks as the sampler noise averages', () => {
  const rng = new Rng(4);
  const sims = 600;
  let resolved = 0;
  const mdd = { 1: 0, 2: 0 };
  for (let i = 0; i < sims; i++) {
    const r = judge(simulateDraws(rng, 0, 2), ONE_LINK);
    if (r.verdict !== 'not resolved') resolved++;
    mdd[2] += (r.links[0]?.difference?.mdd as number) / sims;
    mdd[1] += (judge(simulateDraws(rng, 0, 1), ONE_LINK).links[0]?.difference?.mdd as number) / sims;
  }
  inBand(resolved / sims, 0.023, 0.077, 'two draws, no effect: resolved');
  // Per-prompt differences carry the two models' sampler noise: sd sqrt(2)·4 with one draw, 4 with two; the mdd scales with it.
  assert.ok(Math.abs(mdd[2] / mdd[1] - Math.SQRT1_2) < 0.03, `mdd with two draws / one draw: ${(mdd[2] / mdd[1]).toFixed(3)}, expected about ${Math.SQRT1_2.toFixed(3)}`);
});
