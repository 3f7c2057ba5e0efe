import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holmAdjust } from '../../src/eval/holm.js';
import { checkClaims, type ClaimResult } from '../../src/repro/claimsCheck.js';
import { claimsMarkdown } from '../../src/repro/claimsReport.js';
import { PAPER_CLAIMS } from '../../src/repro/paperClaims.js';
import { BASE_L_NAME, type UnitRecord } from '../../src/repro/reproUnits.js';
import type { EvalResult } from '../../src/eval/evaluate.js';
import type { ProbeRecord } from '../../src/train/postTrain.js';
import { evalOf, unitOf, type Scores } from './claimsFixture.js';

const close = (actual: number | undefined, expected: number, tol: number, what: string): void =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} ± ${tol}`);

/** Student t with 3 df in closed form: two-sided p of t. */
const p3 = (t: number): number => 2 * (1 - (0.5 + (t / Math.sqrt(3) / (1 + (t * t) / 3) + Math.atan(t / Math.sqrt(3))) / Math.PI));

const plus = (xs: readonly number[], d: readonly number[]): number[] => xs.map((x, i) => x + (d[i] as number));
const BASE: Scores = { align: [10, 20, 30, 40], rank: [1, 2, 3, 4], real: [50, 50, 50, 50] };
const SFT: Scores = { align: plus(BASE.align, [2, 1, 2, 3]), rank: [1, 1, 3, 4], real: [60, 52, 54, 58] };
const SELF: Scores = { align: plus(BASE.align, [3, 2, 3, 5]), rank: [1, 1, 2, 4], real: [61, 50, 55, 60] };
const DPO: Scores = { align: plus(BASE.align, [2, 2, 2, 2]), rank: [1, 2, 3, 4], real: [50, 51, 50, 49] };
const NO_MSE: Scores = { ...SELF, align: plus(SELF.align, [0.1, -0.1, 0, 0]) };

/** One training seed per method, curated-val only. */
function hand(extra: UnitRecord[] = []): UnitRecord[] {
  const u = (method: string, s: Scores, fid: number): UnitRecord => unitOf(method, method === 'base' ? 0 : 1, { 'curated-val': evalOf('curated-val', s, fid) });
  return [u('base', BASE, 2), u('sft', SFT, 1.8), u('self-dpo', SELF, 1.7), u('dpo', DPO, 1.9), u('self-dpo-beta50', SELF, 1.7), u('self-dpo-no-mse-beta50', NO_MSE, 1.7), ...extra];
}

const claim = (results: ClaimResult[], id: string): ClaimResult => results.find((r) => r.claim.id === id) as ClaimResult;

test('the seven claims are declared with their primary comparison before any run', () => {
  assert.deepEqual(
    PAPER_CLAIMS.map((c) => c.id),
    ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
  );
  for (const c of PAPER_CLAIMS) {
    const scored = c.links.some((l) => l.kind !== 'probeAbove' && l.kind !== 'probeBetter');
    assert.equal(c.primary !== undefined, scored, `(${c.id}): a primary cell exactly when a link reads scores`);
  }
});

test('chains, margins and non-inferiority judged on the primary cell, by hand', () => {
  const results = checkClaims(hand());
  // (a) Self-DPO − SFT per prompt: 1, 1, 1, 2 (mean 1.25, sd 0.5, se 0.25, t 5 on 3 df): holds.
  // SFT − base: 2, 1, 2, 3 (mean 2, se sqrt(2/3)/2): holds. Both links hold: supported.
  const a = claim(results, 'a');
  assert.equal(a.verdict, 'supported');
  const [selfVsSft, sftVsBase] = a.links;
  close(selfVsSft?.difference?.estimate, 1.25, 1e-12, 'Self-DPO − SFT');
  close(selfVsSft?.difference?.se, 0.25, 1e-12, 'its se');
  close(selfVsSft?.difference?.p, p3(5), 1e-9, 'its p');
  close(sftVsBase?.difference?.p, p3(2 / (Math.sqrt(2 / 3) / 2)), 1e-9, 'SFT − base p');
  assert.deepEqual(
    a.links.map((l) => [l.label, l.verdict]),
    [
      ['Self-DPO − SFT', 'supported'],
      ['SFT − base-S', 'supported'],
    ],
  );
  // Secondary cells of (a) on curated-val: R@1, Real and FID of each link (Align is primary).
  // Self-DPO − SFT R@1: the same hits on every prompt (0, se 0: p 1, favours neither).
  // SFT − base R@1: 0, 100, 0, 0 (mean 25, se 25, t 1). FID, one run each: no test.
  assert.deepEqual(
    a.secondary.map((c) => `${c.comparison} ${c.metric.name}`),
    ['Self-DPO − SFT R@1', 'Self-DPO − SFT Real', 'Self-DPO − SFT FID', 'SFT − base-S R@1', 'SFT − base-S Real', 'SFT − base-S FID'],
  );
  const [r1Same, , fid, r1Base, realBase] = a.secondary;
  assert.equal(r1Same?.test?.p, 1);
  assert.equal(r1Same?.favours, undefined);
  assert.equal(fid?.test, undefined);
  close(r1Base?.test?.p, p3(1), 1e-9, 'SFT − base R@1 p');
  // Real, SFT − base: 10, 2, 4, 8 (mean 6, sd sqrt(40/3)).
  close(realBase?.test?.p, p3(6 / (Math.sqrt(40 / 3) / 2)), 1e-9, 'SFT − base Real p');
  assert.equal(realBase?.favours, 'SFT');
  // Holm across the claim's 4 tested cells.
  const tested = a.secondary.filter((c) => c.test);
  assert.equal(tested.length, 4);
  assert.deepEqual(
    tested.map((c) => c.holm),
    holmAdjust(tested.map((c) => c.test?.p as number)),
  );

  // (e) Self-DPO − Diffusion-DPO (1, 0, 1, 3) > −0.5·(Diffusion-DPO − base) (−1 on every prompt): per
  // prompt Self-DPO − 0.5·DPO − 0.5·base = 2, 1, 2, 4 (mean 2.25, sum of squared deviations 4.75): holds.
  const e = claim(results, 'e');
  assert.equal(e.verdict, 'supported');
  close(e.links[0]?.difference?.estimate, 1.25, 1e-12, 'Self-DPO − Diffusion-DPO');
  close(e.links[0]?.margin?.test?.estimate, 1, 1e-12, 'margin');
  close(e.links[0]?.contrasts[0]?.test?.p, p3(2.25 / (Math.sqrt(4.75 / 3) / 2)), 1e-9, 'contrast p');

  // (c), at beta 50 (Self-DPO's scores there are SELF): w/o MSE − Self-DPO = 0.1, −0.1, 0, 0, within ±0.5·(Self-DPO − base) = ±(1.5, 1, 1.5, 2.5):
  // both contrasts 1.6, 0.9, 1.5, 2.5 and 1.4, 1.1, 1.5, 2.5 lie clearly above 0: supported.
  const c = claim(results, 'c');
  assert.equal(c.verdict, 'supported');
  assert.equal(c.links[0]?.contrasts.length, 2);
  close(c.links[0]?.contrasts[0]?.test?.estimate, 1.625, 1e-12, 'lower contrast');
  close(c.links[0]?.contrasts[1]?.test?.estimate, 1.625, 1e-12, 'upper contrast');
  // 5 Align points below Self-DPO on every prompt is far outside the margin: contradicted.
  const far = hand().map((u) =>
    u.method === 'self-dpo-no-mse-beta50' ? unitOf('self-dpo-no-mse-beta50', 1, { 'curated-val': evalOf('curated-val', { ...SELF, align: plus(SELF.align, [-5, -5.2, -4.9, -5]) }, 1.7) }) : u,
  );
  assert.equal(claim(checkClaims(far), 'c').verdict, 'contradicted');

  // The claims whose models did not run: (b) (no grid or blur), (d) (no probes), (f) (no base-L), (g) (no web-set runs).
  for (const id of ['b', 'd', 'f', 'g']) assert.equal(claim(results, id).verdict, 'not run', `(${id})`);
  assert.deepEqual(claim(results, 'f').missing, ['curated-val of Self-DPO (base-L)', 'curated-val of base-L', 'curated-val of SFT (base-L)']);
  assert.deepEqual(claim(results, 'd').missing, ['the held-out probe of Self-DPO', 'the held-out probe of Diffusion-DPO']);
});

test('base-L units, marked by their base, make claim (f) judged and leave the base-S claims as they were', () => {
  const l = (method: string, s: Scores): UnitRecord => unitOf(method, method === 'base' ? 0 : 1, { 'curated-val': evalOf('curated-val', s, 2) }, { base: BASE_L_NAME });
  // On base-L: Self-DPO − base = 3, 2, 3, 5 (holds); SFT − base = 0, 0.1, −0.1, 0, far below half of Self-DPO's gain.
  const units = hand([l('base', BASE), l('self-dpo', SELF), l('sft', { ...BASE, align: plus(BASE.align, [0, 0.1, -0.1, 0]) })]);
  const results = checkClaims(units);
  const f = claim(results, 'f');
  assert.equal(f.verdict, 'supported');
  assert.deepEqual(
    f.links.map((x) => x.label),
    ['Self-DPO (base-L) − base-L', 'SFT (base-L) − base-L'],
  );
  // 0.5·(Self-DPO − base) − (SFT − base) per prompt: 1.5, 0.9, 1.6, 2.5.
  close(f.links[1]?.contrasts[0]?.test?.estimate, 1.625, 1e-12, 'no-gain contrast');
  assert.deepEqual(claim(results, 'a'), claim(checkClaims(hand()), 'a'), 'base-L units do not enter base-S claims');
});

test("claim (d) reads each run's last held-out probe, floored by its pairs' binomial spread", () => {
  const probed = (method: string, acc: number): UnitRecord => ({
    ...unitOf(
      method,
      1,
      {},
      {
        probe: [
          { step: 50, acc: 0.5 },
          { step: 100, acc },
        ],
        probePairs: 100,
      },
    ),
  });
  const results = checkClaims([probed('self-dpo', 0.9), probed('dpo', 0.6)]);
  const d = claim(results, 'd');
  assert.equal(d.verdict, 'supported');
  // One run of 100 pairs: se from p = (90 + 1)/(100 + 2) (one success and one failure added).
  const p = 91 / 102;
  close(d.links[0]?.difference?.estimate, 0.15, 1e-12, 'accuracy − 0.75');
  close(d.links[0]?.difference?.se, Math.sqrt((p * (1 - p)) / 100), 1e-12, 'se');
  const q = 61 / 102;
  close(d.links[1]?.difference?.se, Math.sqrt((p * (1 - p)) / 100 + (q * (1 - q)) / 100), 1e-12, 'se of the difference');
  assert.equal(d.secondary.length, 0);
  // A run that logged two probes at its last step (its own and another kind of pairs) is refused, not guessed at.
  const self = probed('self-dpo', 0.9);
  const twoProbes: UnitRecord = { ...self, probe: [...self.probe, { ...(self.probe[1] as ProbeRecord), downgrade: 'blur' }] };
  assert.throws(() => checkClaims([twoProbes, probed('dpo', 0.6)]), /self-dpo-s1: 2 held-out probes at step 100 .*one probe per run/);
});

test('the claims check refuses to pair prompts drawn from different sample seeds', () => {
  const units = hand().map((u) => (u.method === 'self-dpo' ? unitOf('self-dpo', 1, { 'curated-val': evalOf('curated-val', SELF, 1.7, 1) }) : u));
  assert.throws(() => checkClaims(units), /curated-val prompt p0: Self-DPO drew it from seed\(s\) 101, SFT from seed\(s\) 100; paired comparisons need the same seeds/);
});

test("the README's claims section: the rule, a row per link with the claim's verdict first, and every secondary cell", () => {
  const md = claimsMarkdown(hand()).join('\n');
  assert.match(md, /Secondary cells, every other \(prompt set, metric\)/);
  assert.match(md, /\|\(a\) Self-DPO > SFT > base on base-S \(Table 2\)\|\*\*supported\*\*\|Self-DPO − SFT: holds\|\+1\.25 \[0\.45, 2\.05\]\|0\.015\|1\.04\|/);
  assert.match(md, /\n\|\|\|SFT − base-S: holds\|\+2\.00 \[/);
  assert.match(
    md,
    /\|\(f\) on base-L, SFT does not help while Self-DPO does \(Table 2, SDXL\)\|not run\|no records: curated-val of Self-DPO \(base-L\); curated-val of base-L; curated-val of SFT \(base-L\)\|/,
  );
  assert.match(md, /margin 0\.5·\(Diffusion-DPO − base-S\) = \+1\.00 \[1\.00, 1\.00\]/);
  assert.match(md, /- \(a\) secondary cells: Self-DPO − SFT, curated-val R@1 0\.0 \[0\.0, 0\.0\], p 1\.000, Holm p 1\.000; .*SFT − base-S, curated-val FID: no test \(one run\)\./);
});

test("a margin link's row gives its deciding contrast's p and minimal detectable difference, not the headline difference's", () => {
  const md = claimsMarkdown(hand()).join('\n');
  // (e): the contrast Self-DPO − 0.5·Diffusion-DPO − 0.5·base is 2, 1, 2, 4 per prompt (mean 2.25, se sqrt(4.75/3)/2 = 0.629):
  // p of t = 3.576 on 3 df = 0.037; minimal detectable (t(0.975; 3) + t(0.8; 3))·se = (3.1824 + 0.9785)·0.629 = 2.62.
  // The headline difference Self-DPO − Diffusion-DPO (1, 0, 1, 3) has p 0.11 on its own: not what decides.
  assert.match(md, /\|Self-DPO − Diffusion-DPO: holds\|\+1\.25 \[[^\]]+\]; margin 0\.5·\(Diffusion-DPO − base-S\) = \+1\.00 \[1\.00, 1\.00\]\|above −margin: 0\.037\|above −margin: 2\.62\|/);
  // (c) has two contrasts, each named by its side.
  assert.match(md, /\|above −margin: [0-9.<]+; below \+margin: [0-9.<]+\|above −margin: [0-9.]+; below \+margin: [0-9.]+\|/);
  assert.match(md, /tested as contrasts that must lie above 0: Self-DPO − Diffusion-DPO above −0\.5·\(Diffusion-DPO − base-S\): \+2\.25 \[[^\]]+\], p 0\.037, minimal detectable 2\.62\./);
});

test('a claim waits until every trained model it reads has every training seed: one run would enter the test like the base', () => {
  // Self-DPO with seeds 1 and 2, SFT with seed 1 only: (a) is not judged from SFT's one run.
  const second = unitOf('self-dpo', 2, { 'curated-val': evalOf('curated-val', { ...SELF, align: plus(SELF.align, [0.5, 0, -0.5, 0]) }, 1.7) });
  const results = checkClaims(hand([second]));
  const a = claim(results, 'a');
  assert.equal(a.verdict, 'waiting');
  assert.deepEqual(a.missing, ['SFT: seed 2 of 1, 2']);
  assert.deepEqual(a.links, []);
  // The preset's seeds, when given, decide: with 1-3 every trained model of (e) lacks some.
  assert.deepEqual(claim(checkClaims(hand([second]), { seeds: [1, 2, 3] }), 'e').missing, ['Self-DPO: seed 3 of 1, 2, 3', 'Diffusion-DPO: seeds 2, 3 of 1, 2, 3']);
  // A model with no run at all is still 'not run', before any waiting.
  assert.equal(claim(results, 'f').verdict, 'not run');
  // Probes count per seed too: Self-DPO probed on seed 1 only, Diffusion-DPO on 1 and 2.
  const probed = (method: string, seed: number, acc: number): UnitRecord => unitOf(method, seed, {}, { probe: [{ step: 100, acc }], probePairs: 100 });
  const d = claim(checkClaims([probed('self-dpo', 1, 0.9), probed('dpo', 1, 0.6), probed('dpo', 2, 0.6)]), 'd');
  assert.equal(d.verdict, 'waiting');
  assert.deepEqual(d.missing, ['Self-DPO: seed 2 of 1, 2']);
  const md = claimsMarkdown(hand([second])).join('\n');
  assert.match(md, /\|\(a\) Self-DPO > SFT > base on base-S \(Table 2\)\|waiting\|training seeds not finished: SFT: seed 2 of 1, 2\|/);
});

test('a margin link whose reference shows no clear gain is not resolved, never contradicted: its margin means nothing', () => {
  // Self-DPO at beta 50 below the base by about 2 on every prompt, and w/o MSE identical to it:
  // the margin 0.5·(Self-DPO − base) is −1, −0.9, −1.1, −1, so "within ±margin" cannot hold, but
  // two identical models are no evidence against "close".
  const below: Scores = { ...SELF, align: plus(BASE.align, [-2, -1.8, -2.2, -2]) };
  const units = hand().map((u) => (u.method === 'self-dpo-beta50' || u.method === 'self-dpo-no-mse-beta50' ? unitOf(u.method, 1, { 'curated-val': evalOf('curated-val', below, 1.7) }) : u));
  const c = claim(checkClaims(units), 'c');
  assert.equal(c.links[0]?.difference?.estimate, 0);
  assert.ok((c.links[0]?.margin?.test?.high as number) < 0, 'the margin lies clearly below 0');
  assert.ok(
    c.links[0]?.contrasts.some((x) => (x.test?.high as number) < 0),
    'a contrast lies below 0',
  );
  assert.equal(c.verdict, 'not resolved');
  assert.match(c.links[0]?.note ?? '', /Self-DPO \(beta 50\) shows no clear gain over base-S/);
  // With a clear gain the same kind of contrast below 0 still contradicts (the "far" case above).
});

/** An evaluation with two draws per prompt: draw 1's entries appended with their own seeds (200 + i), as evaluate() lays them out. */
function twoDraws(d0: Scores, d1: Scores): ReturnType<typeof evalOf> {
  const e = evalOf('curated-val', d0, 1);
  const more = evalOf('curated-val', d1, 1, 100).perPrompt.map((p) => ({ ...p, draw: 1 }));
  return { ...e, draws: 2, perPrompt: [...e.perPrompt, ...more] };
}

test('with two draws per prompt, each prompt is averaged over its draws before the paired test, by hand', () => {
  const same = { rank: [1, 1, 1], real: [50, 50, 50] };
  // Self-DPO: prompt means (2+4)/2 = 3, (5+5)/2 = 5, (1+3)/2 = 2; base: 1, 3, 1. Differences 2, 2, 1:
  // mean 5/3, sd sqrt(1/3), se 1/3 on 2 df (3 prompts, not 6 images).
  const units = [
    unitOf('base', 0, { 'curated-val': twoDraws({ align: [1, 2, 0], ...same }, { align: [1, 4, 2], ...same }) }),
    unitOf('self-dpo', 1, { 'curated-val': twoDraws({ align: [2, 5, 1], ...same }, { align: [4, 5, 3], ...same }) }),
  ];
  const oneLink = {
    ...PAPER_CLAIMS[0],
    id: 'x',
    links: [{ kind: 'better', better: { method: 'self-dpo', base: 'base-S' }, worse: { method: 'base', base: 'base-S' } }],
  } as (typeof PAPER_CLAIMS)[number];
  const [r] = checkClaims(units, { claims: [oneLink] });
  const d = r?.links[0]?.difference;
  close(d?.estimate, 5 / 3, 1e-12, 'difference of prompt means');
  close(d?.se, 1 / 3, 1e-12, 'its se');
  assert.equal(d?.df, 2);
  // A model drawn from other seeds on its second draw is refused: the comparison would not be paired.
  const other = twoDraws({ align: [2, 5, 1], ...same }, { align: [4, 5, 3], ...same });
  other.perPrompt = other.perPrompt.map((p) => (p.draw === 1 ? { ...p, seed: p.seed + 1 } : p));
  assert.throws(
    () => checkClaims([units[0] as UnitRecord, unitOf('self-dpo', 1, { 'curated-val': other })], { claims: [oneLink] }),
    /prompt p0: Self-DPO drew it from seed\(s\) 100,201, base-S from seed\(s\) 100,200/,
  );
});

test("a claim on a metric where lower is better (FID, one number per run) is turned so that above 0 is the claim's way, by hand", () => {
  // Self-DPO's three runs score FID 1.5, 1.6, 1.7 and the base 2.0: the difference −0.4 has se 0.1/sqrt(3) on 2 df,
  // t(0.975; 2) = 4.3027, so the interval is −0.4 ± 0.2484 and, turned, the link's contrast +0.4 [0.1516, 0.6484]: holds.
  const fidClaim = {
    ...PAPER_CLAIMS[0],
    id: 'x',
    primary: { set: 'curated-val', metric: 'FID' },
    links: [{ kind: 'better', better: { method: 'self-dpo', base: 'base-S' }, worse: { method: 'base', base: 'base-S' } }],
  } as (typeof PAPER_CLAIMS)[number];
  const units = [
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', BASE, 2) }),
    ...[1.5, 1.6, 1.7].map((fid, i) => unitOf('self-dpo', i + 1, { 'curated-val': evalOf('curated-val', SELF, fid) })),
  ];
  const [r] = checkClaims(units, { claims: [fidClaim] });
  const link = r?.links[0];
  close(link?.difference?.estimate, -0.4, 1e-12, 'Self-DPO − base FID');
  close(link?.contrasts[0]?.test?.low, 0.4 - 4.302653 * (0.1 / Math.sqrt(3)), 1e-5, 'turned interval, low end');
  close(link?.contrasts[0]?.test?.high, 0.4 + 4.302653 * (0.1 / Math.sqrt(3)), 1e-5, 'turned interval, high end');
  assert.equal(r?.verdict, 'supported');
  // The same FIDs the other way round (Self-DPO worse than the base) read contradicted.
  const worse = units.map((u) => (u.method === 'self-dpo' ? { ...u, evals: { 'curated-val': { ...(u.evals['curated-val'] as EvalResult), fid: 4 - (u.evals['curated-val']?.fid as number) } } } : u));
  assert.equal(checkClaims(worse, { claims: [fidClaim] })[0]?.verdict, 'contradicted');
});
