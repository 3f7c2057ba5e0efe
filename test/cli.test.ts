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
  const first = cli('data', '--data-root', 'd', '--config', small);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /concepts\s+12\n/);
  assert.match(first.err, /emoji-t2i: twemoji/);
  const again = cli('data', '--data-root', 'd', '--config', small);
  assert.equal(again.code, 0, again.err);
  assert.doesNotMatch(again.err, /emoji-t2i: twemoji/);
});

test('two builds of the same data at once both succeed, and one uses the other\'s', async () => {
  const { spawn } = await import('node:child_process');
  const run = (): Promise<{ code: number | null; err: string }> =>
    new Promise((done) => {
      const p = spawn(process.execPath, ['--import', tsx, join(repo, 'src/cli.ts'), 'data', '--data-root', 'race', '--config', small], { cwd: root });
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
  const r = cli('data', '--data-root', 'd2', '--config', bad);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.json: web\.blurr: unknown key/);
  writeFileSync(bad, '{ "maxConcepts": ');
  assert.match(cli('data', '--config', bad).err, /bad\.json: not valid JSON/);
  assert.match(cli('data', '--frobnicate').err, /unknown flag --frobnicate/);
  assert.match(cli('train').err, /unknown command "train"/);
  assert.match(cli('data', 'extra').err, /unexpected argument "extra"/);
  assert.match(cli('data', '--folder', 'x', '--config', bad).err, /--folder does not take --config/);
  const help = cli('data', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /usage:\n  selfdpo data build Emoji-T2I/);
  assert.match(cli('--help').out, /selfdpo start/);
  assert.ok(!existsSync(join(root, 'd2')), 'nothing written for a rejected config');
});

test('sample sheet and data card are written, and not overwritten without --force', () => {
  const ok = cli('data', '--data-root', 'd', '--config', small, '--sample-sheet', 'sheet.png', '--card', 'card.md');
  assert.equal(ok.code, 0, ok.err);
  assert.ok(existsSync(join(root, 'sheet.png')) && existsSync(join(root, 'card.md')));
  const again = cli('data', '--data-root', 'd', '--config', small, '--sample-sheet', 'sheet.png');
  assert.equal(again.code, 1);
  assert.match(again.err, /sheet\.png exists; pass --force/);
});

test('start runs the main job: backend line, dataset summary, one batch', () => {
  const r = cli('start', '--data-root', 'd', '--config', small, '--backend', 'cpu');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /backend: cpu/);
  assert.match(r.out, /first curated batch: shape \[8,32,32,3\]/);
});

test('--folder loads a user folder; a bad line stops it, --skip-bad counts it', async () => {
  const folder = join(root, 'mine');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }).png().toFile(join(folder, 'a.png'));
  await sharp({ create: { width: 20, height: 10, channels: 3, background: '#0000ff' } }).jpeg().toFile(join(folder, 'b.jpg'));
  writeFileSync(join(folder, 'captions.jsonl'), ['{"file":"a.png","caption":"red square"}', '{"file":"b.jpg","caption":""}', '{"file":"b.jpg","caption":"blue"}'].join('\n'));
  const stop = cli('data', '--folder', folder);
  assert.equal(stop.code, 1);
  assert.match(stop.err, /captions\.jsonl line 2: "caption" is empty/);
  const skip = cli('data', '--folder', folder, '--skip-bad', '--sample-sheet', 'mine.png');
  assert.equal(skip.code, 0, skip.err);
  assert.match(skip.out, /2 examples at 32x32, 1 bad skipped/);
  assert.ok(existsSync(join(root, 'mine.png')));
});
