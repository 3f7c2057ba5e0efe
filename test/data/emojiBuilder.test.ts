import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { buildEmojiT2I, conceptSplit, emojiDataDir, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { DEFAULT_EMOJI_DATA, resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { renderEmojiDataCard, summarizeEmojiManifest } from '../../src/data/emojiDataCard.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { renderEmojiSampleSheet } from '../../src/report/emojiSampleSheet.js';
import { EMOJI_STYLES } from '../../src/data/emojiStyles.js';
import { styleDistances } from '../../src/data/styleDistance.js';
import { Rng } from '../../src/util/rng.js';

const roots: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'selfdpo-data-'));
  roots.push(dir);
  return dir;
}
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function dirDigest(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

const SMALL = { maxConcepts: 40, shardSize: 64 };

test('a small build has the promised structure, and a second build is byte-identical', async () => {
  const rootA = tempRoot();
  const a = await buildEmojiT2I(SMALL, { dataRoot: rootA });
  const m = a.manifest;
  assert.equal(m.concepts.length, 40);
  const conceptKeys = new Set(m.concepts.map((c) => c.key));
  for (const img of m.images) {
    assert.ok(conceptKeys.has(img.concept));
    assert.equal(img.role, EMOJI_STYLES.find((s) => s.name === img.style)?.role);
    assert.equal(img.split, m.concepts.find((c) => c.key === img.concept)?.split);
    assert.ok(img.fold >= 0 && img.fold < 10);
  }
  // Every concept is drawn by >=2 generator and >=1 judge styles (the default thresholds).
  for (const key of conceptKeys) {
    const roles = m.images.filter((i) => i.concept === key).map((i) => i.role);
    assert.ok(roles.filter((r) => r === 'generator').length >= 2 && roles.includes('judge'), key);
  }
  // The web set is exactly the generator-style images of seen concepts.
  const webSources = m.web.map((w) => m.images[w.image]);
  assert.equal(m.web.length, m.images.filter((i) => i.role === 'generator' && i.split === 'seen').length);
  assert.ok(webSources.every((i) => i?.role === 'generator' && i.split === 'seen'));
  for (const w of m.web) {
    const own = m.images[w.image]?.concept;
    if (w.captionMode === 'wrong') assert.notEqual(w.captionConcept, own);
    else assert.equal(w.captionConcept, own);
  }
  // Shards hold count x 32x32x3 bytes each and are split at shardSize.
  assert.equal(m.shards.reduce((s, x) => s + x.count, 0), m.images.length);
  assert.ok(m.shards.slice(0, -1).every((s) => s.count === 64));

  const rootB = tempRoot();
  const b = await buildEmojiT2I(SMALL, { dataRoot: rootB });
  assert.deepEqual(dirDigest(b.dir), dirDigest(a.dir));
});

test('images are on white, recognisably drawn, and the web noise changes pixels where it says so', async () => {
  const root = tempRoot();
  const { dir } = await buildEmojiT2I(SMALL, { dataRoot: root });
  const data = EmojiT2I.open(dir, true);
  const R = 32;
  let whiteCorners = 0;
  const isWhite = (px: Uint8Array, x: number, y: number): boolean => [0, 1, 2].every((c) => (px[(y * R + x) * 3 + c] as number) >= 250);
  for (let i = 0; i < data.manifest.images.length; i++) {
    const px = data.imagePixels(i);
    // Transparent surroundings become white: most drawings leave all four corners empty
    // (a few, such as a plate or a filled sign, reach into them).
    if (isWhite(px, 0, 0) && isWhite(px, R - 1, 0) && isWhite(px, 0, R - 1) && isWhite(px, R - 1, R - 1)) whiteCorners++;
    // ...and the drawing covers a real part of the image.
    let inked = 0;
    // (White emoji such as "white circle" are drawn in light grey, so "inked" means "not white".)
    for (let p = 0; p < R * R; p++) if (Math.min(px[p * 3] as number, px[p * 3 + 1] as number, px[p * 3 + 2] as number) < 245) inked++;
    assert.ok(inked > 40, `${data.manifest.images[i]?.id}: only ${inked} drawn pixels`);
  }
  assert.ok(whiteCorners > 0.8 * data.manifest.images.length, `${whiteCorners} of ${data.manifest.images.length} with white corners`);
  data.manifest.web.forEach((w, k) => {
    const same = Buffer.compare(Buffer.from(data.webPixels(k)), Buffer.from(data.imagePixels(w.image))) === 0;
    assert.equal(same, w.jpegQuality === null && w.blurSigma === null, `web item ${k}`);
  });
});

test('views give the right sizes and captions; the sample sheet and data card render', async () => {
  const root = tempRoot();
  const { dir, manifest } = await buildEmojiT2I(SMALL, { dataRoot: root });
  const data = EmojiT2I.open(dir);
  const s = summarizeEmojiManifest(manifest);
  assert.equal(data.view('curated').size, s.curatedImages);
  assert.equal(data.view('judge').size, s.judgeImages);
  assert.equal(data.view('unseen').size, s.unseenGeneratorImages);
  assert.equal(data.view('web').size, s.webImages);
  const curated = data.view('curated', { styleWords: true });
  const first = manifest.images.find((img, i) => img.role === 'generator' && img.split === 'seen' && !data.heldoutImages.has(i));
  const concept = data.conceptByKey.get(first?.concept ?? '');
  assert.ok(curated.caption(0, new Rng(0)).startsWith(`${concept?.name}, ${concept?.subgroup}, ${concept?.group}`));
  assert.match(curated.caption(0, new Rng(0)), /style$/);
  assert.doesNotMatch(data.view('judge', { styleWords: true }).caption(0, new Rng(0)), /style$/);
  // The web view leaves out held-out images, so its k-th item is the k-th web item whose source is kept.
  const kept = manifest.web.filter((w) => !data.heldoutImages.has(w.image));
  const loose = kept.findIndex((w) => w.captionMode === 'loose');
  if (loose >= 0) assert.ok(!data.view('web').caption(loose, new Rng(0)).includes(data.conceptByKey.get(kept[loose]?.captionConcept ?? '')?.group ?? '@@'));

  const png = await renderEmojiSampleSheet(data, 5);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.ok((meta.height ?? 0) > EMOJI_STYLES.length * 96, 'one row of 96 px per style');
  const card = renderEmojiDataCard(data, 'test');
  for (const st of manifest.styles) assert.ok(card.includes(`\`${st.packageName}\`@${st.version} | ${st.license}`), st.name);
});

test('ensureEmojiT2I builds when missing, reuses a matching build, and refuses one from other package versions', async () => {
  const root = tempRoot();
  const logs: string[] = [];
  await ensureEmojiT2I(SMALL, { dataRoot: root, log: (m) => logs.push(m) });
  assert.ok(logs.some((l) => /no build at/.test(l)));
  const dir = emojiDataDir(root, resolveEmojiDataConfig(SMALL));
  const before = dirDigest(dir);
  logs.length = 0;
  await ensureEmojiT2I(SMALL, { dataRoot: root, log: (m) => logs.push(m) });
  assert.equal(logs.length, 0);
  assert.deepEqual(dirDigest(dir), before);
  await assert.rejects(buildEmojiT2I(SMALL, { dataRoot: root }), /already exists; pass --force/);
  // A build made from another version of an artwork package is not trusted.
  const { writeFileSync } = await import('node:fs');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.sources['@iconify-json/twemoji'] = '0.0.1';
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await assert.rejects(ensureEmojiT2I(SMALL, { dataRoot: root }), /@iconify-json\/twemoji \(built from 0\.0\.1, installed \d+\.\d+\.\d+\).*--force/);
  // --force replaces it, leaving no temp or old folder behind.
  await buildEmojiT2I(SMALL, { dataRoot: root, force: true });
  assert.deepEqual(dirDigest(dir), before);
  assert.deepEqual(readdirSync(join(root, 'emoji-t2i')), [dir.split('/').pop()]);
});

test('each config has its own folder: the default one is r32, others r32-<hash>', () => {
  assert.equal(emojiDataDir('x', resolveEmojiDataConfig({})), join('x', 'emoji-t2i', 'r32'), 'a relative root stays relative (run records carry no machine path)');
  assert.match(emojiDataDir('x', resolveEmojiDataConfig({ resolution: 64 })), /emoji-t2i\/r64$/);
  const small = emojiDataDir('x', resolveEmojiDataConfig(SMALL));
  assert.match(small, /emoji-t2i\/r32-[0-9a-f]{10}$/);
  assert.notEqual(small, emojiDataDir('x', resolveEmojiDataConfig({ ...SMALL, seed: 2 })));
  assert.equal(small, emojiDataDir('x', resolveEmojiDataConfig({ shardSize: 64, maxConcepts: 40 })));
});

test('a build killed mid-way leaves a temp folder that the next build removes', async () => {
  const root = tempRoot();
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const target = emojiDataDir(root, resolveEmojiDataConfig({ maxConcepts: 3 }));
  const abandoned = `${target}.tmp-999999999`;
  mkdirSync(abandoned, { recursive: true });
  writeFileSync(join(abandoned, 'images-000.bin'), 'partial');
  const { dir } = await buildEmojiT2I({ maxConcepts: 3 }, { dataRoot: root });
  assert.deepEqual(readdirSync(join(root, 'emoji-t2i')), [dir.split('/').pop()]);
});

test('a damaged shard is caught on open, naming the file', async () => {
  const root = tempRoot();
  const { dir } = await buildEmojiT2I({ maxConcepts: 5 }, { dataRoot: root });
  const { writeFileSync } = await import('node:fs');
  const shard = join(dir, 'images-000.bin');
  const bytes = readFileSync(shard);
  writeFileSync(shard, bytes.subarray(0, bytes.length - 10));
  assert.throws(() => EmojiT2I.open(dir), (e: unknown) => e instanceof Error && e.message.includes('images-000.bin') && /--force/.test(e.message));
  bytes[100] = (bytes[100] as number) ^ 0xff;
  writeFileSync(shard, bytes);
  assert.throws(() => EmojiT2I.open(dir, true), /images-000\.bin: content hash differs/);
  assert.ok(existsSync(join(dir, 'manifest.json')));
});

test('style distances: zero for a style against itself, positive between styles, symmetric in the pair', async () => {
  const root = tempRoot();
  const { dir } = await buildEmojiT2I({ maxConcepts: 8 }, { dataRoot: root });
  const data = EmojiT2I.open(dir);
  const [same] = styleDistances(data, ['twemoji', 'twemoji']);
  assert.equal(same?.meanAbsDiff, 0);
  const [ab] = styleDistances(data, ['twemoji', 'noto']);
  const [ba] = styleDistances(data, ['noto', 'twemoji']);
  assert.ok((ab?.meanAbsDiff ?? 0) > 5, `twemoji vs noto: ${ab?.meanAbsDiff}`);
  assert.equal(ab?.meanAbsDiff, ba?.meanAbsDiff);
  assert.equal(ab?.concepts, data.manifest.concepts.filter((c) => ['twemoji', 'noto'].every((s) => data.manifest.images.some((i) => i.id === `${s}/${c.key}`))).length);
});

test('the concept split is a stable hash with about the configured share unseen', () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
  const unseen = keys.filter((k) => conceptSplit(k, DEFAULT_EMOJI_DATA) === 'unseen').length;
  assert.ok(unseen > 400 && unseen < 600, `${unseen} of 5000`);
  assert.equal(conceptSplit('1f600', DEFAULT_EMOJI_DATA), conceptSplit('1f600', { ...DEFAULT_EMOJI_DATA }));
});

test('the full default build meets the dataset targets and is byte-identical across builds', async () => {
  const rootA = tempRoot();
  const a = await buildEmojiT2I({}, { dataRoot: rootA });
  const s = summarizeEmojiManifest(a.manifest);
  assert.ok(s.concepts >= 1500, `${s.concepts} concepts`);
  assert.ok(s.generatorImages >= 8000, `${s.generatorImages} generator-style images`);
  assert.ok(s.judgeImages >= 5000, `${s.judgeImages} judge-style images`);
  assert.ok(s.unseenConcepts / s.concepts > 0.07 && s.unseenConcepts / s.concepts < 0.13);
  const rootB = tempRoot();
  const b = await buildEmojiT2I({}, { dataRoot: rootB });
  assert.deepEqual(dirDigest(b.dir), dirDigest(a.dir));
});

test('64x64 builds on request into its own folder', async () => {
  const root = tempRoot();
  const { dir, manifest } = await buildEmojiT2I({ resolution: 64, maxConcepts: 4 }, { dataRoot: root });
  assert.equal(dir, emojiDataDir(root, resolveEmojiDataConfig({ resolution: 64, maxConcepts: 4 })));
  assert.equal(manifest.resolution, 64);
  const data = EmojiT2I.open(dir, true);
  assert.equal(data.view('judge').pixels(0).length, 64 * 64 * 3);
  assert.equal(readFileSync(join(dir, 'images-000.bin')).length, manifest.shards[0]!.count * 64 * 64 * 3);
});
