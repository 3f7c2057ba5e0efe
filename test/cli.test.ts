import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

const repo = resolve(__dirname, '..');
// The CLI runs in a temp folder, so tsx is named by path rather than looked up from cwd.
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
const root = mkdtempSync(join(tmpdir(), 'selfdpo-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', tsx, join(repo, 'src/cli.ts'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const small = join(root, 'small.json');
writeFileSync(small, JSON.stringify({ maxConcepts: 12, shardSize: 32 }));

test('data builds on first use, reuses the build after, and refuses other settings', () => {
  const first = cli('data', '--data-root', 'd', '--data-config', small);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /concepts\s+12\n/);
  assert.match(first.err, /emoji-t2i: twemoji/);
  const again = cli('data', '--data-root', 'd', '--data-config', small);
  assert.equal(again.code, 0, again.err);
  assert.doesNotMatch(again.err, /emoji-t2i: twemoji/);
});

test("two builds of the same data at once both succeed, and one uses the other's", async () => {
  const { spawn } = await import('node:child_process');
  const run = (): Promise<{ code: number | null; err: string }> =>
    new Promise((done) => {
      const p = spawn(process.execPath, ['--import', tsx, join(repo, 'src/cli.ts'), 'data', '--data-root', 'race', '--data-config', small], { cwd: root });
      let err = '';
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.on('close', (code) => done({ code, err }));
    });
  const [a, b] = await Promise.all([run(), run()]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(join(root, 'race', 'emoji-t2i')).length, 1, 'one build folder, no temp folders');
});

test('a bad config file or flag is an error naming the file, key or flag', () => {
  const bad = join(root, 'bad.json');
  writeFileSync(bad, JSON.stringify({ web: { blurr: 0.1 } }));
  const r = cli('data', '--data-root', 'd2', '--data-config', bad);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.json: web\.blurr: unknown key/);
  writeFileSync(bad, '{ "maxConcepts": ');
  assert.match(cli('data', '--data-config', bad).err, /bad\.json: not valid JSON/);
  // A command line it cannot read exits 2 (the usage-error convention); a failure after that, 1.
  const unknownFlag = cli('data', '--frobnicate');
  assert.match(unknownFlag.err, /unknown flag --frobnicate/);
  assert.equal(unknownFlag.code, 2);
  const unknownCommand = cli('frobnicate');
  assert.match(unknownCommand.err, /unknown command "frobnicate"/);
  assert.equal(unknownCommand.code, 2);
  assert.equal(cli('data', '--resolution').code, 2, 'a flag without its value');
  const version = cli('--version');
  assert.equal(version.code, 0, version.err);
  assert.match(version.out, /^selfdpo-lab \d+\.\d+\.\d+\n$/);
  assert.match(cli('data', 'extra').err, /unexpected argument "extra"/);
  assert.match(cli('data', '--folder', 'x', '--data-config', bad).err, /--folder does not take --data-config/);
  const help = cli('data', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: selfdpo data \[flags\]\n\nbuild Emoji-T2I/);
  assert.match(help.out, /\n {2}--data-config FILE +a data config/);
  assert.match(cli('--help').out, /\n {2}start +the main job/);
  assert.ok(!existsSync(join(root, 'd2')), 'nothing written for a rejected config');
});

test('sample sheet and data card are written, and not overwritten without --force', () => {
  const ok = cli('data', '--data-root', 'd', '--data-config', small, '--sample-sheet', 'sheet.png', '--card', 'card.md');
  assert.equal(ok.code, 0, ok.err);
  assert.ok(existsSync(join(root, 'sheet.png')) && existsSync(join(root, 'card.md')));
  const again = cli('data', '--data-root', 'd', '--data-config', small, '--sample-sheet', 'sheet.png');
  assert.equal(again.code, 1);
  assert.match(again.err, /sheet\.png exists; pass --force/);
});

test('--folder loads a user folder; a bad line stops it, --skip-bad counts it', async () => {
  const folder = join(root, 'mine');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } })
    .png()
    .toFile(join(folder, 'a.png'));
  await sharp({ create: { width: 20, height: 10, channels: 3, background: '#0000ff' } })
    .jpeg()
    .toFile(join(folder, 'b.jpg'));
  writeFileSync(join(folder, 'captions.jsonl'), ['{"file":"a.png","caption":"red square"}', '{"file":"b.jpg","caption":""}', '{"file":"b.jpg","caption":"blue"}'].join('\n'));
  const stop = cli('data', '--folder', folder);
  assert.equal(stop.code, 1);
  assert.match(stop.err, /captions\.jsonl line 2: "caption" is empty/);
  const skip = cli('data', '--folder', folder, '--skip-bad', '--sample-sheet', 'mine.png');
  assert.equal(skip.code, 0, skip.err);
  assert.match(skip.out, /2 examples at 32x32, 1 bad skipped/);
  assert.ok(existsSync(join(root, 'mine.png')));
});

test('pretrain and post-train --data FOLDER train on a user folder: its own vocabulary, 1 in 20 images held out as the probe', async () => {
  const { mkdirSync, readFileSync } = await import('node:fs');
  const folder = join(root, 'own');
  mkdirSync(folder);
  const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
  const hex = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#800080', '#ffa500'];
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    await sharp({ create: { width: 16, height: 16, channels: 3, background: hex[i % 6] as string } })
      .png()
      .toFile(join(folder, `${i}.png`));
    lines.push(JSON.stringify({ file: `${i}.png`, caption: `${colours[i % 6]} tile number${i}` }));
  }
  writeFileSync(join(folder, 'captions.jsonl'), lines.join('\n'));
  const pre = cli('pretrain', '--preset', 'smoke', '--steps', '2', '--data', folder, '--out', 'own-run');
  assert.equal(pre.code, 0, pre.err);
  const record = JSON.parse(readFileSync(join(root, 'own-run', 'config.json'), 'utf8')) as {
    config: { data: unknown };
    data: { images: number; heldoutImages: number };
    tokenizer: { vocabSize: number };
  };
  assert.deepEqual(record.config.data, { view: 'folder', folder });
  assert.equal(record.data.images + record.data.heldoutImages, 24);
  assert.ok(record.data.heldoutImages >= 1);
  // The vocabulary is the folder's words (6 colours, "tile", 24 numbers, less the held-out ones' numbers) plus the specials.
  assert.ok(record.tokenizer.vocabSize >= 7 + record.data.images && record.tokenizer.vocabSize < 40, `vocabulary ${record.tokenizer.vocabSize}`);
  const heldout = readFileSync(join(root, 'own-run', 'heldout.jsonl'), 'utf8');
  assert.match(heldout, /"set":"heldout"/);
  const post = cli(
    'post-train',
    '--method',
    'self-dpo',
    '--base',
    join('own-run', 'model'),
    '--data',
    folder,
    '--steps',
    '2',
    '--batch',
    '4',
    '--micro-batch',
    '2',
    '--workers',
    '1',
    '--out',
    'own-post',
  );
  assert.equal(post.code, 0, post.err);
  assert.match(post.err, /folder-heldout @2: mse_w/);
  assert.ok(!existsSync(join(root, 'data')), 'a folder run builds no Emoji-T2I');
});

test('pretrain (smoke) writes a resumable run, survives kill -9, and sample draws a grid from it', async () => {
  const { spawn } = await import('node:child_process');
  const { readFileSync, readdirSync } = await import('node:fs');
  const common = ['--preset', 'smoke', '--data-root', 'd', '--data-config', small, '--backend', 'wasm'];
  const longer = join(root, 'longer.json');
  writeFileSync(longer, JSON.stringify({ train: { steps: 400 }, log: { checkpointEvery: 2, evalEvery: 100 } }));
  // Kill a run for real once it has checkpointed, then resume it.
  const p = spawn(process.execPath, ['--import', tsx, join(repo, 'src/cli.ts'), 'pretrain', ...common, '--config', longer, '--out', 'run'], { cwd: root });
  await new Promise<void>((done) => {
    const poll = setInterval(() => {
      const state = join(root, 'run', 'state', 'state.json');
      if (existsSync(state) && (JSON.parse(readFileSync(state, 'utf8')) as { step: number }).step >= 4) {
        clearInterval(poll);
        p.kill('SIGKILL');
        done();
      }
    }, 50);
  });
  await new Promise((done) => p.on('close', done));
  const resumed = cli('pretrain', ...common, '--config', longer, '--steps', '12', '--out', 'run');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.err, /resuming run from step \d+/);
  const steps = readFileSync(join(root, 'run', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(
    steps,
    Array.from({ length: 12 }, (_, i) => i + 1),
    'one metrics line per step, none lost or repeated',
  );
  assert.ok(!readdirSync(join(root, 'run')).some((f) => f.includes('.tmp')), 'no temp folders left');

  const sample = cli('sample', '--model', join('run', 'model'), '--prompt', 'grinning face', '--seeds', '2', '--sample-steps', '2', '--out', 'grid.png');
  assert.equal(sample.code, 0, sample.err);
  const meta = await sharp(join(root, 'grid.png')).metadata();
  assert.ok((meta.width ?? 0) > 2 * 96 && (meta.height ?? 0) > 96, `grid size ${meta.width}x${meta.height}`);
  const again = cli('sample', '--model', join('run', 'model'), '--prompt', 'x', '--out', 'grid.png');
  assert.notEqual(again.code, 0);
  assert.match(again.err, /grid\.png exists; pass --force/);
  const bad = cli('sample', '--model', join('run', 'model'), '--prompt', 'x', '--sample-steps', '0', '--out', 'g2.png');
  assert.match(bad.err, /--sample-steps: expected an integer in \[1, 1000\], got 0/);
  assert.equal(bad.code, 2);
  const missing = cli('sample', '--model', 'nowhere', '--prompt', 'x', '--out', 'g3.png');
  assert.match(missing.err, /nowhere\/model\.json not found/);
});

test('start is the quick reproduction, and names the judge it lacks before doing any work', () => {
  const made = cli('pretrain', '--preset', 'smoke', '--steps', '2', '--data-root', 'd', '--data-config', small, '--out', 'start-model');
  assert.equal(made.code, 0, made.err);
  const r = cli('start', '--data-root', 'd', '--data-config', small, '--base', join('start-model', 'model'), '--judges', 'no-judges');
  assert.equal(r.code, 1);
  assert.match(r.err, /backend: wasm/);
  assert.match(r.err, /no-judges\/eval\/judge\.json not found/);
  assert.ok(!existsSync(join(root, 'runs', 'start', 'preset.json')), 'nothing written');
  assert.match(cli('start', '--preset', 'nope').err, /--preset: unknown preset "nope" \(known: quick, paper\)/);
});

test('post-train --preset refuses a method the preset does not train on the base --base names, before any work', () => {
  const r = cli('post-train', '--preset', 'paper', '--method', 'sft-web', '--base', 'data/base-l', '--out', 'preset-run');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--method sft-web: the paper preset does not train it on base-L \(its methods there: sft, dpo, self-dpo,/);
  assert.ok(!existsSync(join(root, 'preset-run')), 'nothing written');
});

test("ship copies a run's EMA model with its provenance and writes the report", async () => {
  const { readFileSync } = await import('node:fs');
  const made = cli('pretrain', '--preset', 'smoke', '--steps', '4', '--data-root', 'd', '--data-config', small, '--out', 'ship-run');
  assert.equal(made.code, 0, made.err);
  const shipped = cli('ship', '--run', 'ship-run', '--to', 'ship-model', '--results', 'ship-results', '--name', 'tiny');
  assert.equal(shipped.code, 0, shipped.err);
  for (const f of ['model.json', 'weights.bin', 'config.json', 'metrics.jsonl', 'heldout.jsonl', 'README.md']) assert.ok(existsSync(join(root, 'ship-model', f)), f);
  for (const f of ['samples.png', 'loss.svg', 'loss.png', 'heldout-unseen.svg', 'heldout-seen.png', 'README.md']) assert.ok(existsSync(join(root, 'ship-results', f)), f);
  const readme = readFileSync(join(root, 'ship-results', 'README.md'), 'utf8');
  // float16 by default, so the sheet's rounding against the float32 weights is measured.
  assert.match(readme, /The float16 weights draw it within a mean of \d+\.\d{3}\/255 per channel \(largest \d+\/255\)/);
  assert.match(readme, /npm run pretrain -- --preset smoke --steps 4/);
  assert.match(readme, /npm run ship -- --run ship-run/);
  assert.match(readme, /\| 4 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/, 'held-out table row for step 4');
  const again = cli('ship', '--run', 'ship-run', '--to', 'ship-model', '--results', 'ship-results');
  assert.match(again.err, /ship-model exists; pass --force/);
  // The raw weights of the last checkpoint instead of the EMA: a different model file.
  assert.equal(cli('ship', '--run', 'ship-run', '--to', 'ship-raw', '--results', 'ship-raw-results', '--beside', 'ship-model').code, 2, '--beside without a label');
  const raw = cli('ship', '--run', 'ship-run', '--to', 'ship-raw', '--results', 'ship-raw-results', '--weights', 'raw', '--beside', 'ema=ship-model');
  assert.equal(raw.code, 0, raw.err);
  assert.ok(existsSync(join(root, 'ship-raw-results', 'side-by-side.png')));
  assert.match(readFileSync(join(root, 'ship-raw-results', 'README.md'), 'utf8'), /`side-by-side.png`: ema \(`ship-model`\) and base-S on the same prompts and seeds/);
  assert.match(readFileSync(join(root, 'ship-raw', 'README.md'), 'utf8'), /Raw \(not averaged\) weights of a real pretraining run at step 4/);
  // The README quotes the hash of the weights it ships, not of the run's EMA file.
  const { sha256 } = await import('../src/util/sha256.js');
  assert.ok(readFileSync(join(root, 'ship-raw', 'README.md'), 'utf8').includes(sha256(readFileSync(join(root, 'ship-raw', 'weights.bin')))));
  assert.notEqual(readFileSync(join(root, 'ship-raw', 'weights.bin')).toString('hex'), readFileSync(join(root, 'ship-model', 'weights.bin')).toString('hex'));
  // Continued from the shipped model in a new run and shipped over it: the history from step 0.
  const more = cli('pretrain', '--preset', 'smoke', '--steps', '6', '--init-from', 'ship-model', '--data-root', 'd', '--data-config', small, '--out', 'ship-run-2');
  assert.equal(more.code, 0, more.err);
  const reshipped = cli('ship', '--run', 'ship-run-2', '--to', 'ship-model', '--results', 'ship-results', '--name', 'tiny', '--force');
  assert.equal(reshipped.code, 0, reshipped.err);
  const steps = readFileSync(join(root, 'ship-model', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
  const history = readFileSync(join(root, 'ship-results', 'README.md'), 'utf8');
  const order = [
    /npm run pretrain -- --preset smoke --steps 4 .*# from step 0/,
    /npm run ship -- --run ship-run --to ship-model/,
    /npm run pretrain -- --preset smoke --steps 6 --init-from ship-model .*# from step 4/,
    /npm run ship -- --run ship-run-2/,
  ];
  const at = order.map((re) => history.search(re));
  assert.ok(
    at.every((i, k) => i >= 0 && (k === 0 || i > (at[k - 1] as number))),
    `commands in order: ${at.join(', ')}\n${history}`,
  );
  assert.match(history, /^Step 6;/m);
  for (const s of [4, 6]) assert.match(history, new RegExp(`\\| ${s} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\|`), `held-out row for step ${s}`);
  // Shipped again from the same run: the history was taken when the run started, not from the folder it replaced.
  const twice = cli('ship', '--run', 'ship-run-2', '--to', 'ship-model', '--results', 'ship-results', '--name', 'tiny', '--force');
  assert.equal(twice.code, 0, twice.err);
  assert.equal(readFileSync(join(root, 'ship-results', 'README.md'), 'utf8'), history);
  // From a checkpoint folder with no README: one line says the earlier commands are unknown.
  const bare = cli('pretrain', '--preset', 'smoke', '--steps', '5', '--init-from', join('ship-run', 'model'), '--data-root', 'd', '--data-config', small, '--out', 'ship-run-3');
  assert.equal(bare.code, 0, bare.err);
  assert.equal(cli('ship', '--run', 'ship-run-3', '--to', 'ship-bare', '--results', 'ship-bare-results').code, 0);
  assert.match(readFileSync(join(root, 'ship-bare', 'README.md'), 'utf8'), /# ship-run\/model at step 4: no recorded commands/);
});

test('train (smoke) runs Self-DPO from a base, resumes rather than repeats, and compare reports it with a side-by-side grid', async () => {
  const { readFileSync } = await import('node:fs');
  const made = cli('pretrain', '--preset', 'smoke', '--steps', '2', '--data-root', 'd', '--data-config', small, '--out', 'train-base');
  assert.equal(made.code, 0, made.err);
  const common = ['--base', join('train-base', 'model'), '--steps', '2', '--batch', '4', '--micro-batch', '2', '--data-root', 'd', '--data-config', small, '--workers', '1'];
  // configs/self-dpo-blur.json trains on the Emoji-Pick build in data/emoji-pick, which is not here: a clear error; this run takes the curated set.
  const noBuild = cli('post-train', '--method', 'self-dpo-blur', ...common, '--out', 'no-build');
  assert.equal(noBuild.code, 1);
  assert.match(noBuild.err, /data\/emoji-pick: not found: no preference pairs there \(npm run pick -- --out data\/emoji-pick builds Emoji-Pick there/);
  const curated = join(root, 'curated.json');
  writeFileSync(curated, JSON.stringify({ data: { view: 'curated', pairs: '' } }));
  const run = cli('post-train', '--method', 'self-dpo-blur', ...common, '--config', curated, '--out', 'tr');
  assert.equal(run.code, 0, run.err);
  assert.match(run.err, /self-dpo\/blur step 2\/2 .*acc/);
  assert.match(run.err, /validation @2: mse_w [\d.]+ +implicit acc [\d.]+/);
  assert.equal(
    readFileSync(join(root, 'tr', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    2,
  );
  const again = cli('post-train', '--method', 'self-dpo-blur', ...common, '--config', curated, '--out', 'tr');
  assert.equal(again.code, 0, again.err);
  assert.equal(
    readFileSync(join(root, 'tr', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    2,
    'a finished run is not trained again',
  );
  const other = cli('post-train', '--method', 'self-dpo-blur', ...common, '--config', curated, '--lr', '1e-3', '--out', 'tr');
  assert.match(other.err, /different config; pass --force/);
  // Pick-a-Pic v2 Parquet written by DuckDB: Diffusion-DPO on its pairs, SFT on its winners, 2 steps each.
  const fixture = join(__dirname, 'fixtures', 'pickapic-duckdb.parquet');
  for (const method of ['dpo', 'sft']) {
    const picked = cli('post-train', '--method', method, ...common, '--pairs', fixture, '--out', `pick-${method}`);
    assert.equal(picked.code, 0, picked.err);
    assert.match(picked.err, new RegExp(`${method} on 4 winners, 2 steps of 4`));
    const record = JSON.parse(readFileSync(join(root, `pick-${method}`, 'config.json'), 'utf8')) as { config: { data: { view: string; pairs: string } } };
    assert.deepEqual(record.config.data, { view: 'pairs', pairs: fixture, folder: '' });
  }
  const unknown = cli('post-train', '--method', 'self-dpo-smudge', ...common);
  assert.match(unknown.err, /unknown method "self-dpo-smudge": no \S*configs\/self-dpo-smudge\.json/);
  const report = cli(
    'compare',
    '--runs',
    'Blur=tr',
    '--out',
    'cmp',
    '--grid',
    '--grid-prompts',
    '2',
    '--seeds',
    '1',
    '--sample-steps',
    '2',
    '--data-root',
    'd',
    '--data-config',
    small,
    '--workers',
    '1',
  );
  assert.equal(report.code, 0, report.err);
  for (const f of ['README.md', 'implicit-acc.svg', 'implicit-acc.png', 'probe-implicit-acc.svg', 'loss.png', 'samples.png']) assert.ok(existsSync(join(root, 'cmp', f)), f);
  assert.match(readFileSync(join(root, 'cmp', 'README.md'), 'utf8'), /npm run post-train -- --method self-dpo-blur/);
});
