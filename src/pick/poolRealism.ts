import { join } from 'node:path';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { throughPickJpeg } from '../data/pickJpeg.js';
import { trainRealismJudge, type JudgeFitOptions, type JudgeTrainConfig } from '../eval/judgeTraining.js';
import { poolRealismValidity, type PoolRealismScores } from '../eval/judgeValidity.js';
import { RealismJudge, type RealismJudgeConfig } from '../eval/realismJudge.js';
import { mapOrdered } from '../util/mapOrdered.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { decodePoolImages, poolImagesByGenerator, type PickPool } from './pickPool.js';

/**
 * The same number of items from every generator: `min(cap, fewest any generator has)`, a seeded
 * sample of each generator's own. So no generator's look outweighs another's in the generated
 * class, however unevenly the build drew them. A generator with none is an error naming `where`.
 */
export function evenDraw<T>(byGenerator: ReadonlyMap<string, readonly T[]>, cap: number, seed: number, where: string): { perGenerator: number; drawn: Map<string, T[]> } {
  for (const [g, items] of byGenerator) if (items.length === 0) throw new Error(`${where}: no image of generator "${g}"; the realism judge takes the same number from every generator`);
  const perGenerator = Math.min(cap, ...[...byGenerator.values()].map((items) => items.length));
  const drawn = new Map([...byGenerator].map(([g, items]) => [g, new Rng(deriveSeed(seed, 'realism-pool-draw', g)).sample(items, perGenerator)]));
  return { perGenerator, drawn };
}

/** Both classes of a pool-trained realism judge, as it is shown them. */
interface PoolRealismData {
  /** Real images, each through the pool's JPEG (`throughPickJpeg`), as the pool's images were. */
  real: ImageTextSet;
  /** The even draw of the pool's training-split images, decoded as stored, generator by generator. */
  generated: Map<string, Uint8Array[]>;
  perGenerator: number;
  /** Every image of the pool's validation split, decoded as stored, by generator: never trained on. */
  validation: Map<string, Uint8Array[]>;
}

/**
 * The realism judge's data from an Emoji-Pick pool (docs/PROTOCOL.md "The judges"): the generated
 * class is the even draw of the images of the training split's pairs (both images of every pair),
 * the held-out ones are the validation split's. Pool images are JPEG in the shards, real images
 * are not: each real image is sent through the same JPEG at the build's quality and decoded the
 * same way, so JPEG artifacts mark neither class.
 */
export async function preparePoolRealism(pool: PickPool, real: ImageTextSet, opts: { perGenerator: number; seed: number }): Promise<PoolRealismData> {
  const R = real.resolution;
  const stored = await poolImagesByGenerator(pool, 'train');
  const { perGenerator, drawn } = evenDraw(stored, opts.perGenerator, opts.seed, join(pool.dir, 'train'));
  const generated = new Map<string, Uint8Array[]>();
  for (const [g, images] of drawn) generated.set(g, await decodePoolImages(images, R));
  const held = await poolImagesByGenerator(pool, 'validation');
  const validation = new Map<string, Uint8Array[]>();
  for (const [g, images] of held) {
    if (images.length === 0) throw new Error(`${join(pool.dir, 'validation')}: no image of generator "${g}"; the realism judge's report scores every generator's validation images`);
    validation.set(g, await decodePoolImages(images, R));
  }
  const realInputs = await mapOrdered(
    Array.from({ length: real.size }, (_, i) => i),
    8,
    (i) => throughPickJpeg(real.pixels(i), R, pool.jpegQuality),
  );
  return {
    real: { resolution: R, size: real.size, pixels: (k) => realInputs[k] as Uint8Array, caption: (k, rng) => real.caption(k, rng), id: (k) => real.id(k) },
    generated,
    perGenerator,
    validation,
  };
}

/** What a pool-trained realism judge reports (results/judges/realism.json `validity`). */
export type PoolRealismValidity = { pool: { dir: string; generators: Record<string, string>; jpegQuality: number; trainImagesPerGenerator: number } } & PoolRealismScores;

/**
 * Train the realism judge against an Emoji-Pick pool and report it: real images (`real.train`, as
 * drawn) against the even draw of the pool's training-split images, then its mean 100·P(real) with
 * a 95% interval on each generator's validation-split images, on held-out real images and on real
 * generator-style images (`real.heldout`, `real.generatorStyle`, as drawn). The judge records the
 * pool's JPEG quality, so evaluation shows it samples through the same JPEG (`realismInputs`).
 */
export async function trainPoolRealismJudge(
  pool: PickPool,
  real: { train: ImageTextSet; heldout: readonly Uint8Array[]; generatorStyle: readonly Uint8Array[] },
  judgeConfig: RealismJudgeConfig,
  train: JudgeTrainConfig,
  perGenerator: number,
  runDir: string,
  opts: JudgeFitOptions = {},
): Promise<{ judge: RealismJudge; trainedOn: Record<string, unknown>; validity: PoolRealismValidity }> {
  const data = await preparePoolRealism(pool, real.train, { perGenerator, seed: train.seed });
  const judge = RealismJudge.create({ ...judgeConfig, inputJpegQuality: pool.jpegQuality }, train.seed);
  await trainRealismJudge(judge, data.real, [...data.generated.values()].flat(), train, runDir, opts);
  const scores = await poolRealismValidity(judge, real.heldout, real.generatorStyle, data.validation);
  const about = { dir: pool.dir, generators: pool.inputs.generators, jpegQuality: pool.jpegQuality, trainImagesPerGenerator: data.perGenerator };
  return {
    judge,
    trainedOn: { real: data.real.size, generated: data.perGenerator * pool.generators.length, perGenerator: data.perGenerator, pool: about, poolIdentity: pool.identity },
    validity: { pool: about, ...scores },
  };
}
