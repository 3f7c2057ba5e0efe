import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { sha256 } from '../util/sha256.js';
import { mapOrdered } from '../util/mapOrdered.js';
import { deriveSeed, Rng, stableHash32 } from '../util/rng.js';
import { artworkLicense, matchArtwork, packageVersion, type Artwork } from './emojiArtwork.js';
import { loadEmojiCatalog, type EmojiConcept } from './emojiCatalog.js';
import { resolveEmojiDataConfig, type EmojiDataConfig } from './emojiConfig.js';
import type { ConceptSplit, EmojiManifest, ManifestConcept, ManifestImage, ManifestStyle, ManifestWebItem, WebCaptionMode } from './emojiManifest.js';
import { EMOJI_STYLES, type EmojiStyle } from './emojiStyles.js';
import { gaussianBlur, jpegRoundTrip, rasterizeOnWhite } from './rasterize.js';
import { ShardWriter } from './shards.js';
import { readJsonFile } from '../util/jsonFile.js';

/**
 * Where the build of a config lives under the data root: `r32` for the default settings at
 * a resolution, `r32-<hash of the config>` otherwise, so a smoke or experimental build
 * never takes the place of the default one.
 */
export function emojiDataDir(dataRoot: string, config: EmojiDataConfig): string {
  const standard = JSON.stringify(resolveEmojiDataConfig({ resolution: config.resolution })) === JSON.stringify(config);
  const name = standard ? `r${config.resolution}` : `r${config.resolution}-${sha256(JSON.stringify(config)).slice(0, 10)}`;
  // Relative stays relative: run records name the data as the user gave it, not this machine's path.
  return join(dataRoot, 'emoji-t2i', name);
}

/** Versions of every package the bytes of a build depend on (artwork, names, keywords). */
export function emojiSourceVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const style of EMOJI_STYLES) versions[style.packageName] = artworkLicense(style).version;
  for (const pkg of ['emojibase-data', 'emojilib', 'sharp']) versions[pkg] = packageVersion(pkg);
  return versions;
}

/** The concept split: a stable hash of the key, so adding concepts never moves old ones. */
export function conceptSplit(key: string, config: Pick<EmojiDataConfig, 'splitSalt' | 'unseenFraction'>): ConceptSplit {
  return stableHash32(`${config.splitSalt}|${key}`) % 10000 < config.unseenFraction * 10000 ? 'unseen' : 'seen';
}

/** The folder datasets live in: `$SELFDPO_DATA_ROOT`, else `data` (relative to the working folder). */
export function defaultDataRoot(): string {
  return process.env['SELFDPO_DATA_ROOT'] || 'data';
}

export interface BuildOptions {
  /** Root folder that holds `emoji-t2i/` (default `defaultDataRoot()`). */
  dataRoot?: string;
  /** Replace an existing build. */
  force?: boolean;
  /** Called now and then with a one-line progress message. */
  log?: (message: string) => void;
}

/**
 * Build Emoji-T2I: match every style's artwork to CLDR concepts, keep the concepts drawn
 * by enough generator and judge styles, rasterise each drawing on white, write the shards,
 * then derive the web set (docs/PROTOCOL.md). The build happens in a temp folder that is
 * renamed into place only when complete, so a crash never leaves a half-written dataset.
 * Everything is ordered and seeded, so two builds give identical bytes.
 */
export async function buildEmojiT2I(configOverride: unknown = {}, opts: BuildOptions = {}): Promise<{ dir: string; manifest: EmojiManifest }> {
  const config = resolveEmojiDataConfig(configOverride);
  const log = opts.log ?? (() => undefined);
  const target = emojiDataDir(opts.dataRoot ?? defaultDataRoot(), config);
  if (existsSync(target) && !opts.force) {
    throw new Error(`${target} already exists; pass --force to rebuild it`);
  }
  const started = Date.now();
  const catalog = loadEmojiCatalog();
  const artwork = EMOJI_STYLES.map((style) => ({ style, byConcept: matchArtwork(style, catalog) }));

  const kept = keptConcepts(catalog.concepts, artwork, config);
  const concepts: ManifestConcept[] = kept.map((c) => toManifestConcept(c, conceptSplit(c.key, config)));
  const splitOf = new Map(concepts.map((c) => [c.key, c.split]));
  log(`emoji-t2i: ${catalog.concepts.length} CLDR concepts, ${concepts.length} drawn by >=${config.minGeneratorStyles} generator and >=${config.minJudgeStyles} judge styles`);

  removeAbandonedBuilds(target);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const bytesPerImage = config.resolution * config.resolution * 3;
    const writer = new ShardWriter(tmp, 'images', config.shardSize, bytesPerImage);
    const images: ManifestImage[] = [];
    const pixelsOf: Uint8Array[] = [];
    const styles: ManifestStyle[] = [];
    for (const { style, byConcept } of artwork) {
      const drawn = await rasterizeStyle(style, byConcept, kept, { config, splitOf, writer });
      images.push(...drawn.images);
      pixelsOf.push(...drawn.pixels);
      styles.push(drawn.style);
      const blank = drawn.style.images < drawn.jobs ? `, ${drawn.jobs - drawn.style.images} blank dropped` : '';
      log(`emoji-t2i: ${style.name.padEnd(12)} ${String(drawn.style.images).padStart(5)} images${blank} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    const shards = writer.finish();

    const webWriter = new ShardWriter(tmp, 'web', config.shardSize, bytesPerImage);
    const web = await buildWebSet(config, images, pixelsOf, concepts, webWriter);
    const webShards = webWriter.finish();
    log(`emoji-t2i: web set ${web.length} images (${((Date.now() - started) / 1000).toFixed(1)} s)`);

    const manifest: EmojiManifest = {
      format: 'emoji-t2i/1',
      resolution: config.resolution,
      config,
      sources: emojiSourceVersions(),
      styles,
      concepts,
      images,
      web,
      shards,
      webShards,
    };
    writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    return publishBuild(tmp, target, manifest, opts.force ?? false, log);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The concepts drawn by at least `minGeneratorStyles` generator and `minJudgeStyles` judge
 * styles; with `maxConcepts` set, a subset chosen by a stable hash of the key.
 */
function keptConcepts(all: readonly EmojiConcept[], artwork: ReadonlyArray<{ style: EmojiStyle; byConcept: ReadonlyMap<string, Artwork> }>, config: EmojiDataConfig): EmojiConcept[] {
  let kept = all.filter((c) => {
    const drawnBy = (role: string): number => artwork.filter((a) => a.style.role === role && a.byConcept.has(c.key)).length;
    return drawnBy('generator') >= config.minGeneratorStyles && drawnBy('judge') >= config.minJudgeStyles;
  });
  if (config.maxConcepts > 0 && kept.length > config.maxConcepts) {
    const rank = (key: string): number => stableHash32(`subset|${key}`);
    const chosen = new Set(
      [...kept]
        .sort((a, b) => rank(a.key) - rank(b.key))
        .slice(0, config.maxConcepts)
        .map((c) => c.key),
    );
    kept = kept.filter((c) => chosen.has(c.key));
  }
  return kept;
}

/** One style's drawings of the kept concepts, rasterised on white and added to the shards; blank ones are dropped. */
async function rasterizeStyle(
  style: EmojiStyle,
  byConcept: ReadonlyMap<string, Artwork>,
  kept: readonly EmojiConcept[],
  on: { config: EmojiDataConfig; splitOf: ReadonlyMap<string, ManifestConcept['split']>; writer: ShardWriter },
): Promise<{ images: ManifestImage[]; pixels: Uint8Array[]; style: ManifestStyle; jobs: number }> {
  const jobs = kept.flatMap((concept) => {
    const art = byConcept.get(concept.key);
    return art ? [{ concept, art }] : [];
  });
  const rendered = await mapOrdered(jobs, 8, async ({ art }) => {
    try {
      return await rasterizeOnWhite(art.bytes(), on.config.resolution, style.format === 'iconify');
    } catch (err) {
      throw new Error(`${style.packageName}: ${art.source}: cannot rasterise: ${(err as Error).message}`);
    }
  });
  const images: ManifestImage[] = [];
  const pixels: Uint8Array[] = [];
  jobs.forEach(({ concept, art }, i) => {
    const drawn = rendered[i] as Uint8Array;
    if (isBlank(drawn)) return;
    images.push({
      id: `${style.name}/${concept.key}`,
      concept: concept.key,
      style: style.name,
      role: style.role,
      split: on.splitOf.get(concept.key) ?? 'seen',
      fold: stableHash32(`fold|${concept.key}|${style.name}`) % 10,
      source: art.source,
      ...on.writer.add(drawn),
    });
    pixels.push(drawn);
  });
  const manifestStyle: ManifestStyle = { name: style.name, role: style.role, styleWords: style.styleWords, ...artworkLicense(style), images: images.length, leftOut: style.exclude?.reason ?? '' };
  return { images, pixels, style: manifestStyle, jobs: jobs.length };
}

/**
 * Move a finished build into place with renames only, so readers see the old build, no
 * build, or the new one, never part of one. Should another process have published the
 * same build meanwhile, its copy is kept and used (the bytes are the same).
 */
function publishBuild(tmp: string, target: string, manifest: EmojiManifest, force: boolean, log: (m: string) => void): { dir: string; manifest: EmojiManifest } {
  if (force && existsSync(target)) {
    const old = `${target}.old-${process.pid}`;
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
    return { dir: target, manifest };
  }
  try {
    renameSync(tmp, target);
    return { dir: target, manifest };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    rmSync(tmp, { recursive: true, force: true });
    log(`emoji-t2i: another process finished the same build first; using ${target}`);
    return { dir: target, manifest: checkReusable(target, manifest.config) };
  }
}

/**
 * Delete temp folders of builds whose process is gone (killed mid-build); a build still
 * running in another process keeps its folder.
 */
function removeAbandonedBuilds(target: string): void {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  const base = basename(target);
  for (const entry of readdirSync(parent)) {
    const match = /^(.*)\.(tmp|old)-(\d+)$/.exec(entry);
    if (!match || match[1] !== base) continue;
    const pid = Number(match[3]);
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A drawing that leaves (almost) nothing on white: a white glyph meant for a coloured
 * keycap, say, matched by name. Fewer than 1/64 of the pixels differ from white.
 */
function isBlank(rgb: Uint8Array): boolean {
  const pixels = rgb.length / 3;
  let inked = 0;
  for (let p = 0; p < pixels; p++) {
    if (Math.min(rgb[p * 3] as number, rgb[p * 3 + 1] as number, rgb[p * 3 + 2] as number) < 245) inked++;
  }
  return inked < pixels / 64;
}

function toManifestConcept(c: EmojiConcept, split: ConceptSplit): ManifestConcept {
  return {
    key: c.key,
    codepoint: c.codepoint,
    emoji: c.emoji,
    name: c.name,
    group: c.group,
    subgroup: c.subgroup,
    keywords: c.keywords,
    split,
  };
}

/**
 * The web set: every generator-style image of a seen concept, with noise drawn per image
 * from a stream seeded by the image id (so the draw of one image never depends on others).
 */
async function buildWebSet(
  config: EmojiDataConfig,
  images: readonly ManifestImage[],
  pixelsOf: readonly Uint8Array[],
  concepts: readonly ManifestConcept[],
  writer: ShardWriter,
): Promise<ManifestWebItem[]> {
  const seenKeys = concepts.filter((c) => c.split === 'seen').map((c) => c.key);
  const w = config.web;
  const sources = images.map((img, i) => ({ img, i })).filter(({ img }) => img.role === 'generator' && img.split === 'seen');
  const drawn = sources.map(({ img, i }) => {
    const rng = new Rng(deriveSeed(config.seed, 'web', img.id));
    const u = rng.next();
    // A wrong caption needs another seen concept to come from.
    const wrongRate = seenKeys.length > 1 ? w.wrongCaption : 0;
    const captionMode: WebCaptionMode = u < wrongRate ? 'wrong' : u < wrongRate + w.looseCaption ? 'loose' : 'exact';
    let captionConcept = img.concept;
    if (captionMode === 'wrong') {
      while (captionConcept === img.concept) captionConcept = rng.pick(seenKeys);
    }
    const jpegQuality = rng.next() < w.jpeg ? w.jpegQualityMin + rng.int(w.jpegQualityMax - w.jpegQualityMin + 1) : null;
    const blurSigma = rng.next() < w.blur ? w.blurSigma : null;
    return { i, captionMode, captionConcept, jpegQuality, blurSigma };
  });
  const noisy = await mapOrdered(drawn, 8, async (d) => {
    let px = pixelsOf[d.i] as Uint8Array;
    if (d.blurSigma !== null) px = await gaussianBlur(px, config.resolution, d.blurSigma);
    if (d.jpegQuality !== null) px = await jpegRoundTrip(px, config.resolution, d.jpegQuality);
    return px;
  });
  return drawn.map((d, k) => ({
    image: d.i,
    ...writer.add(noisy[k] as Uint8Array),
    captionMode: d.captionMode,
    captionConcept: d.captionConcept,
    jpegQuality: d.jpegQuality,
    blurSigma: d.blurSigma,
  }));
}

/** Read a build's manifest, with an error that says how to make one. */
export function readEmojiManifest(dir: string): EmojiManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} not found; build the dataset with \`npm run data\``);
  const manifest = readJsonFile(path, 'dataset manifest') as EmojiManifest;
  if (manifest.format !== 'emoji-t2i/1') throw new Error(`${path}: unknown format "${String(manifest.format)}"`);
  return manifest;
}

/**
 * The manifest of the build in `dir` if it was made with `config` from the packages
 * installed now; otherwise an error that names what differs. A build from other artwork
 * or text versions has other bytes, so it is never silently reused.
 */
function checkReusable(dir: string, config: EmojiDataConfig): EmojiManifest {
  const manifest = readEmojiManifest(dir);
  const differs: string[] = [];
  const built = manifest.config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (JSON.stringify(built[key]) !== JSON.stringify(value)) differs.push(`${key} (built ${JSON.stringify(built[key])}, wanted ${JSON.stringify(value)})`);
  }
  const installed = emojiSourceVersions();
  for (const [pkg, version] of Object.entries(installed)) {
    const was = manifest.sources?.[pkg];
    if (was !== version) differs.push(`${pkg} (built from ${was ?? 'unknown'}, installed ${version})`);
  }
  if (differs.length > 0) {
    throw new Error(`${dir} does not match what is asked for: ${differs.join('; ')}; rebuild it with \`npm run data -- --force\``);
  }
  return manifest;
}

/**
 * The build for `config`, made first when missing (commands call this so that data is
 * never a manual step). A build from other settings or package versions is an error,
 * not a silent reuse.
 */
export async function ensureEmojiT2I(configOverride: unknown = {}, opts: BuildOptions = {}): Promise<{ dir: string; manifest: EmojiManifest }> {
  const config = resolveEmojiDataConfig(configOverride);
  const dir = emojiDataDir(opts.dataRoot ?? defaultDataRoot(), config);
  if (existsSync(join(dir, 'manifest.json')) && !opts.force) {
    return { dir, manifest: checkReusable(dir, config) };
  }
  (opts.log ?? (() => undefined))(`emoji-t2i: no build at ${dir}; building it now`);
  return buildEmojiT2I(config, opts);
}
