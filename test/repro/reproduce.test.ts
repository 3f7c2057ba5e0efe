import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { saveJudge } from '../../src/eval/judgeFile.js';
import { conceptCaptions } from '../../src/eval/judgeValidity.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { loadModel } from '../../src/model/modelFile.js';
import { CURATED_VAL_GRID_TEXT, renderCuratedValGrid } from '../../src/report/curatedValGrid.js';
import { openReproduction, reproduce } from '../../src/repro/reproduce.js';
import { RUN_LOCK } from '../../src/runs/runLock.js';
import { recordReportRedraw, writeReproReport } from '../../src/repro/reproReport.js';
import { QUICK, type PresetBase, type ReproPreset } from '../../src/repro/reproPresets.js';
import { unitConfig } from '../../src/repro/reproUnit.js';
import { readPickPairs } from '../../src/data/pickapic.js';
import { JsonLines } from '../../src/runs/progress.js';
import { emojiTrainData, PICK_VALIDATION } from '../../src/train/emojiTrainData.js';
import { LABELLED_LOSERS } from '../../src/train/pairProbe.js';
import { Rng } from '../../src/util/rng.js';
import { smallEmojiPick } from '../pick/pickHelpers.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { smokeBase } from '../train/trainHelpers.js';

/**
 * Two methods on two seeds on base-S and one on base-L, two steps each, three prompts per set at
 * two draws each: every phase, in seconds (`pick`: the test's own small build; the bases' folders
 * are the test's smoke models).
 */
const SMOKE: Omit<ReproPreset, 'pick'> = {
  name: 'smoke',
  purpose: 'a test of the pipeline.',
  bases: [
    { name: 'base-S', dir: 'data/base-s', methods: ['dpo', 'self-dpo'], train: { steps: 2, batchSize: 4, microBatch: 4 }, log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalPairs: 4 } },
    { name: 'base-L', dir: 'data/base-l', methods: ['self-dpo'], train: { steps: 2, batchSize: 4, microBatch: 4 }, log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalPairs: 4 } },
  ],
  seeds: [1, 2],
  eval: { prompts: { 'curated-val': 3, 'unseen-concepts': 3, 'keyword-only': 3 }, sampling: { steps: 2, guidance: 2 }, draws: 2 },
  grid: { prompts: 2, seeds: [0] },
};

/** One line of a unit's heldout.jsonl, as far as this test reads it. */
interface Probe {
  set: string;
  downgrade: string;
}

test('a smoke reproduction trains on its Emoji-Pick build, runs every phase, resumes a unit, and refuses another preset or build', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const data = EmojiT2I.open(dir);
  const root = mkdtempSync(join(tmpdir(), 'repro-'));
  // Untrained toy judges: the pipeline, not the scores, is under test.
  const judges = join(root, 'judges');
  const tokenizer = Tokenizer.fromCaptions(conceptCaptions(data).captions, { maxLength: 8 });
  const contrastive = { resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 };
  await saveJudge(join(judges, 'eval'), ContrastiveJudge.create(contrastive, tokenizer, 1), { test: true });
  await saveJudge(join(judges, 'annotator'), ContrastiveJudge.create(contrastive, tokenizer, 2), { test: true });
  await saveJudge(join(judges, 'realism'), RealismJudge.create({ resolution: 32, image: { channels: [8], groups: 4, width: 8 } }, 3), { test: true });
  const out = join(root, 'results');
  const baseGrid = join(root, 'start', 'base-samples.png');
  const baseS = await smokeBase();
  const opts = { out, work: join(root, 'work'), bases: { 'base-S': baseS, 'base-L': await smokeBase(8) }, judges, log: (): void => {}, baseGrid };

  // A missing or unfinished Emoji-Pick build is named, with the command that makes it, before anything runs.
  const early = { ...opts, out: join(root, 'early'), work: join(root, 'early-work') };
  await assert.rejects(
    reproduce({ ...SMOKE, pick: join(root, 'nowhere') }, data, early),
    /the smoke preset trains on the Emoji-Pick build in \S*nowhere \(npm run pick makes it\): \S*nowhere[/\\]build\.json not found: not an Emoji-Pick build \(npm run pick -- --out/,
  );
  const partial = join(root, 'partial-pick');
  await smallEmojiPick(data, partial, { annotator: join(judges, 'annotator'), base: baseS, stopAfterShards: 1 });
  await assert.rejects(
    reproduce({ ...SMOKE, pick: partial }, data, early),
    /partial-pick[/\\]build\.json: the build has no validation split \(no validation shard is recorded\); the build is not complete either: run npm run pick -- --out \S*partial-pick with its config/,
  );
  assert.ok(!existsSync(join(early.out, 'preset.json')) && !existsSync(join(early.out, 'runs')), 'nothing ran');

  const pick = join(root, 'emoji-pick');
  // A tie margin of 1 Align point leaves a tie or two among the 8 training pairs here (the hand-made build of test/train/emojiTrainData.test.ts always has one).
  const build = await smallEmojiPick(data, pick, { annotator: join(judges, 'annotator'), base: baseS, tieMargin: 1 });
  const preset: ReproPreset = { ...SMOKE, pick };
  const count = (split: 'train' | 'validation', key: 'pairs' | 'ties'): number => build.shards.filter((s) => s.split === split).reduce((n, s) => n + s[key], 0);
  const untied = count('train', 'pairs') - count('train', 'ties');

  const written = await reproduce(preset, data, opts);
  // The base's grid comes first: the base model's curated-val grid, as `npm run ship` draws it.
  assert.equal(written[0], baseGrid);
  const { model, schedule } = loadModel(baseS);
  const alone = await renderCuratedValGrid(model, schedule, data, { title: `${baseS}: ${CURATED_VAL_GRID_TEXT}` });
  model.params.dispose();
  assert.ok(readFileSync(baseGrid).equals(alone), 'base grid = the base model drawn directly');
  const gridDrawn = statSync(baseGrid).mtimeMs;
  for (const f of ['table1.md', 'table1.csv', 'table2.md', 'units.csv', 'fig5.svg', 'fig5.png', 'fig3.png', 'fig4.png', 'README.md', 'emoji-pick-build.json']) {
    assert.ok(existsSync(join(out, f)), `${f} is written`);
  }
  for (const f of ['forest.svg', 'forest.png', 'forest.vl.json']) assert.ok(existsSync(join(out, f)), `${f} is written`);
  assert.ok(!existsSync(join(out, 'table5.md')), 'Table 5 needs the web-set methods, which did not run');
  // Tables 3 and 4 would hold Diffusion-DPO and Self-DPO alone here, Table 2's rows again.
  for (const f of ['table3.md', 'table4.md', 'table3-base-L.md', 'table4-base-L.md']) assert.ok(!existsSync(join(out, f)), `${f} would repeat Table 2`);
  assert.ok(written.includes(join(out, 'README.md')));
  const table2 = readFileSync(join(out, 'table2.md'), 'utf8');
  // Per prompt set: base-S, Diffusion-DPO and Self-DPO (SFT did not run), each Self-DPO row over 2 seeds.
  assert.equal(table2.split('\n').filter((l) => l.startsWith('|curated-val|')).length, 3);
  assert.match(table2, /\|keyword-only\|Self-DPO\|2\|/);
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  assert.match(readme, /## The paper's claims/);
  // Self-DPO and Diffusion-DPO ran: (e) and (d) are judged; (a) needs SFT, which did not run.
  assert.match(readme, /\|\(e\) Self-DPO >= Diffusion-DPO \(Table 2\)\|\*\*(supported|contradicted|not resolved)\*\*\|Self-DPO − Diffusion-DPO: /);
  assert.match(readme, /\|\(d\) Self-DPO's implicit accuracy rises high and Diffusion-DPO's stays lower \(Figure 5\)\|\*\*(supported|contradicted|not resolved)\*\*\|/);
  assert.match(readme, /\|\(a\) Self-DPO > SFT > base on base-S \(Table 2\)\|not run\|no records: curated-val of SFT\|/);
  // (f) reads base-L's units: its base and Self-DPO ran there, SFT did not.
  assert.match(readme, /\|\(f\) on base-L, SFT does not help while Self-DPO does \(Table 2, SDXL\)\|not run\|no records: curated-val of SFT \(base-L\)\|/);
  const units = readFileSync(join(out, 'units.csv'), 'utf8').trim().split('\n');
  assert.equal(units.length, 1 + 3 * (4 + 2), 'a header and one row per set and trained model of either base');
  assert.match(units[0] as string, /^prompt set,base,method,seed,/);
  assert.equal(units.filter((l) => l.includes(',base-L,self-dpo,')).length, 3 * 2);
  // base-L's units live under its folder, record their base, and get their own tables, its base row named base-L.
  const doneL = JSON.parse(readFileSync(join(out, 'runs', 'base-L', 'self-dpo-s2', 'done.json'), 'utf8')) as { unit: string; base: string; baseSha256: string };
  assert.deepEqual([doneL.unit, doneL.base], ['base-L/self-dpo-s2', 'base-L']);
  assert.ok(existsSync(join(out, 'runs', 'base-L', 'base', 'eval-curated-val.json')));
  const table2L = readFileSync(join(out, 'table2-base-L.md'), 'utf8');
  assert.deepEqual(
    table2L
      .split('\n')
      .filter((l) => l.startsWith('|curated-val|'))
      .map((l) => l.split('|')[2]),
    ['base-L', 'Self-DPO'],
  );
  assert.match(readme, /## Table 2: SFT, Diffusion-DPO and Self-DPO against the base \(base-L\)/);
  // Two draws per prompt, each prompt's draws from their own seeds, the same for every model of either base.
  const evalOf = (unit: string): { draws?: number; perPrompt: Array<{ id: string; seed: number; draw?: number }> } =>
    JSON.parse(readFileSync(join(out, 'runs', unit, 'eval-curated-val.json'), 'utf8')) as { draws?: number; perPrompt: Array<{ id: string; seed: number; draw?: number }> };
  assert.equal(evalOf('dpo-s1').draws, 2);
  assert.equal(evalOf('dpo-s1').perPrompt.length, 2 * 3);
  assert.deepEqual(
    evalOf('base-L/self-dpo-s1').perPrompt.map((p) => [p.id, p.seed, p.draw]),
    evalOf('base').perPrompt.map((p) => [p.id, p.seed, p.draw]),
  );

  // Diffusion-DPO trained on the build's untied train pairs, and its probe read the validation split's labelled pairs.
  const runRecord = (unit: string): { config: { data: { pairs: string } }; data: { size: number; rows: { rows: number; ties: number } } } =>
    JSON.parse(readFileSync(join(out, 'runs', unit, 'config.json'), 'utf8')) as { config: { data: { pairs: string } }; data: { size: number; rows: { rows: number; ties: number } } };
  const probes = (unit: string): Probe[] => new JsonLines(join(out, 'runs', unit, 'heldout.jsonl')).read() as unknown as Probe[];
  for (const unit of ['dpo-s1', 'self-dpo-s2']) {
    const r = runRecord(unit);
    assert.equal(r.config.data.pairs, pick, `${unit} reads the preset's build`);
    assert.deepEqual([r.data.size, r.data.rows.rows, r.data.rows.ties], [untied, count('train', 'pairs'), count('train', 'ties')], `${unit}: the untied train pairs (or their winners)`);
  }
  assert.ok(probes('dpo-s1').length > 0 && probes('dpo-s1').every((p) => p.set === PICK_VALIDATION && p.downgrade === LABELLED_LOSERS));
  assert.ok(probes('self-dpo-s1').length > 0 && probes('self-dpo-s1').every((p) => p.set === PICK_VALIDATION && p.downgrade === 'randomImage'));
  // SFT would train on those winners and captions, and nothing else.
  const sft = await emojiTrainData(data, unitConfig(preset, preset.bases[0] as PresetBase, 'sft', 1, baseS), data.resolution);
  const winners = await readPickPairs(join(pick, 'train'));
  assert.deepEqual(
    Array.from({ length: sft.winners.size }, (_, i) => sft.winners.caption(i, new Rng(0))),
    winners.pairs.map((p) => p.caption),
  );
  assert.equal(sft.pairs, undefined);
  // Table 1's cost of preference data is the build's own record.
  const table1 = readFileSync(join(out, 'table1.md'), 'utf8');
  assert.match(
    table1,
    new RegExp(
      `\\|Diffusion-DPO\\|Emoji-Pick train pairs \\+ a preference per pair: ${untied} of ${count('train', 'pairs')} \\(${count('train', 'ties')} ties dropped\\)\\|yes \\(the annotator judge\\)\\|the Emoji-Pick build: ${count('train', 'pairs') + count('validation', 'pairs')} pairs`,
    ),
  );
  assert.match(table1, new RegExp(`\\|Self-DPO\\|Emoji-Pick train winners \\+ captions: ${untied} \\(a tie has none\\) \\(losers made during training\\)\\|`));
  assert.match(readme, /- Preference data: the Emoji-Pick build `[^`]*emoji-pick` \(sha256 of its identity and shards [0-9a-f]{16}\.\.\.;/);

  // A unit that died after one of its prompt sets resumes there and gives the same tables.
  rmSync(join(out, 'runs', 'self-dpo-s2', 'done.json'));
  rmSync(join(out, 'runs', 'self-dpo-s2', 'eval-keyword-only.json'));
  // Redrawn meanwhile, the report counts whole units only: Self-DPO has its one finished seed on every set.
  await writeReproReport(out);
  const wholeUnits = readFileSync(join(out, 'table2.md'), 'utf8');
  for (const set of ['curated-val', 'unseen-concepts', 'keyword-only']) assert.match(wholeUnits, new RegExp(`\\|${set}\\|Self-DPO\\|1\\|`));
  const said: string[] = [];
  await reproduce(preset, data, { ...opts, log: (line: string) => said.push(line) });
  // Its progress line (the last of 8 to finish) is priced by the units finished before, as none has run in this call yet.
  const progress = said.filter((l) => l.startsWith('['));
  assert.equal(progress.length, 1, progress.join('\n'));
  assert.match(progress[0] as string, /^\[8\/8\] self-dpo-s2, about (\d+h\d{2}m|\d+m\d{2}s|\d+s) left$/);
  assert.equal(readFileSync(join(out, 'table2.md'), 'utf8'), table2);
  assert.equal(statSync(baseGrid).mtimeMs, gridDrawn, 'a resumed run keeps its base grid');
  // A damaged evaluation file is named with the way out, never taken as scored or silently redone.
  rmSync(join(out, 'runs', 'self-dpo-s2', 'done.json'));
  writeFileSync(join(out, 'runs', 'self-dpo-s2', 'eval-keyword-only.json'), 'garbage{{{');
  await assert.rejects(reproduce(preset, data, opts), /eval-keyword-only\.json: not valid JSON: .*; delete it and run again to score that prompt set again/);
  rmSync(join(out, 'runs', 'self-dpo-s2', 'eval-keyword-only.json'));
  await reproduce(preset, data, opts);
  assert.equal(readFileSync(join(out, 'table2.md'), 'utf8'), table2);
  // Redrawing the report from the units: the same tables, and the README names the command.
  recordReportRedraw(out, 'npm run reproduce -- --report-only');
  await writeReproReport(out);
  assert.equal(readFileSync(join(out, 'table2.md'), 'utf8'), table2);
  assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /npm run reproduce -- --report-only {3}# redrew the tables, figures and this README on 20/);
  // Redrawn again at once: one line counts the two redraws; preset.json keeps each.
  recordReportRedraw(out, 'npm run reproduce -- --report-only');
  await writeReproReport(out);
  const madeBy = readFileSync(join(out, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('# redrew'));
  assert.equal(madeBy.length, 1, madeBy.join('\n'));
  assert.match(madeBy[0] as string, /--report-only {3}# redrew the tables, figures and this README 2 times, from 20\S+ to 20\S+$/);
  assert.equal((JSON.parse(readFileSync(join(out, 'preset.json'), 'utf8')) as { invocations: Array<{ reportOnly?: boolean }> }).invocations.filter((i) => i.reportOnly).length, 2);

  await assert.rejects(reproduce({ ...preset, seeds: [1] }, data, opts), /preset\.json: this reproduction was started with a different preset; pass --force/);
  // The prose of a preset is not part of what must match.
  await reproduce({ ...preset, purpose: 'reworded.' }, data, opts);
  // Another build in the same folder is refused, named by its hash.
  const buildJson = readFileSync(join(pick, 'build.json'), 'utf8');
  const rebuilt = buildJson.replace('"tieMargin": 1,', '"tieMargin": 1.5,');
  assert.notEqual(rebuilt, buildJson);
  writeFileSync(join(pick, 'build.json'), rebuilt);
  await assert.rejects(
    reproduce(preset, data, opts),
    /preset\.json: this reproduction was started with a different Emoji-Pick build \(\S*emoji-pick holds [0-9a-f]{12} now, [0-9a-f]{12} then\); pass --force/,
  );
  writeFileSync(join(pick, 'build.json'), buildJson);
  // --force deletes only a reproduction's folder.
  const stray = join(root, 'stray');
  mkdirSync(stray);
  writeFileSync(join(stray, 'keep.txt'), 'x');
  await assert.rejects(reproduce(preset, data, { ...opts, out: stray, force: true }), /--force: .*stray is not a reproduction's folder/);
  assert.ok(existsSync(join(stray, 'keep.txt')));
  // npm start's layout, the work folder inside the results folder, after a first run stopped
  // before preset.json (no Emoji-Pick build, say): its work folder, holding this process's lock.
  const startOut = join(root, 'npm-start');
  const startWork = join(startOut, 'work');
  mkdirSync(startWork, { recursive: true });
  writeFileSync(join(startWork, RUN_LOCK), 'held');
  openReproduction(preset, data, { ...opts, out: startOut, work: startWork, force: true }, { command: null, started: '', threads: 1 });
  assert.ok(existsSync(join(startOut, 'preset.json')));
  assert.ok(existsSync(join(startWork, RUN_LOCK)), "--force keeps the process's own lock");
  rmSync(root, { recursive: true, force: true });
});

test("an ablation trains with the lr and beta tuned for the Self-DPO it ablates, unless it has its own; other methods keep configs/'s", () => {
  const base: PresetBase = {
    ...(QUICK.bases[0] as PresetBase),
    tuned: { 'self-dpo': { lr: 3e-5, beta: 500 }, 'self-dpo-beta50': { lr: 1e-4 }, 'self-dpo-grid': { lr: 3e-6 } },
  };
  const setting = (method: string): [number, number] => {
    const c = unitConfig(QUICK, base, method, 1, 'data/base-s');
    return [c.train.lr, c.loss.beta];
  };
  assert.deepEqual(setting('self-dpo'), [3e-5, 500]);
  assert.deepEqual(setting('self-dpo-blur'), [3e-5, 500]);
  assert.deepEqual(setting('self-dpo-no-mse'), [3e-5, 500]);
  // Its own entry wins (its beta still its parent's, as configs/ has none of its own).
  assert.deepEqual(setting('self-dpo-grid'), [3e-6, 5000]);
  // Beta 50 is the point of the beta-50 pair: the parent's choice names an lr alone.
  assert.deepEqual(setting('self-dpo-no-mse-beta50'), [1e-4, 50]);
  // Not an ablation, not tuned: configs/'s lr 1e-5 and beta 5000.
  assert.deepEqual(setting('dpo'), [1e-5, 5000]);
  assert.deepEqual(setting('self-dpo-web'), [1e-5, 5000]);
});
