import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import type { EmojiT2I } from '../data/emojiDataset.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { ContrastiveJudge } from '../eval/contrastiveJudge.js';
import { CONTRASTIVE_JUDGE, JUDGE_NAMES, JUDGE_RECIPES, REALISM_JUDGE, REALISM_POOL, REALISM_SAMPLES, type JudgeName } from '../eval/judgeConfigs.js';
import { saveJudge } from '../eval/judgeFile.js';
import { trainContrastiveJudge, trainRealismJudge } from '../eval/judgeTraining.js';
import { contrastiveValidity, realismValidity, type ContrastiveValidity, type RealScore } from '../eval/judgeValidity.js';
import { RealismJudge } from '../eval/realismJudge.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { openPickPool, type PickPool } from '../pick/pickPool.js';
import { trainPoolRealismJudge, type PoolRealismValidity } from '../pick/poolRealism.js';
import { SAMPLE_CHUNK, sampleBytes } from '../parallel/sampleBytes.js';
import { Tokenizer } from '../text/tokenizer.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import { stringFlag, UsageError } from '../util/args.js';
import { machineLine } from '../util/machine.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { deriveSeed, Rng, stableHash32 } from '../util/rng.js';
import { readJsonFile } from '../util/jsonFile.js';
import { defineCommand } from './command.js';
import { BACKEND, BASE, EMOJI_FLAGS, FORCE, WORKERS, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { EMOJI_PICK_DIR } from '../repro/reproPresets.js';
import { SHIPPED_BASE_S } from './sampleCommand.js';

/** The judge-style images of `styles` (all judge styles for 'all'). */
function judgeImages(data: EmojiT2I, styles: string[] | 'all'): ImageTextSet {
  const all = data.view('judge');
  if (styles === 'all') return all;
  const known = new Set(data.manifest.styles.filter((s) => s.role === 'judge').map((s) => s.name));
  for (const s of styles) if (!known.has(s)) throw new Error(`judge recipe: "${s}" is not a judge style (${[...known].join(', ')})`);
  const keep = Array.from({ length: all.size }, (_, i) => i).filter((i) => styles.includes(all.id(i).split('/')[0] as string));
  return {
    resolution: all.resolution,
    size: keep.length,
    pixels: (k) => all.pixels(keep[k] as number),
    caption: (k, rng) => all.caption(keep[k] as number, rng),
    id: (k) => all.id(keep[k] as number),
  };
}

/** Split a set by a stable hash of each id: about `share` of it held out. */
function holdOut(set: ImageTextSet, share: number): { train: ImageTextSet; heldout: Uint8Array[] } {
  const isHeld = (i: number): boolean => stableHash32(`realism-heldout/${set.id(i)}`) / 2 ** 32 < share;
  const keep = Array.from({ length: set.size }, (_, i) => i).filter((i) => !isHeld(i));
  const held = Array.from({ length: set.size }, (_, i) => i).filter(isHeld);
  return {
    train: {
      resolution: set.resolution,
      size: keep.length,
      pixels: (k) => set.pixels(keep[k] as number),
      caption: (k, rng) => set.caption(keep[k] as number, rng),
      id: (k) => set.id(keep[k] as number),
    },
    heldout: held.map((i) => set.pixels(i)),
  };
}

/**
 * The realism judge's real images, whatever it trains against: judge-style images with about 10%
 * held out for its report, and 256 real generator-style images (styles it never sees) for its bias.
 */
function realismRealImages(data: EmojiT2I, styles: string[] | 'all', seed: number): { real: ImageTextSet; heldout: Uint8Array[]; generatorStyle: Uint8Array[] } {
  const { train: real, heldout } = holdOut(judgeImages(data, styles), 0.1);
  const curated = data.view('curated');
  const pick = new Rng(deriveSeed(seed, 'realism-report')).sample(
    Array.from({ length: curated.size }, (_, i) => i),
    256,
  );
  return { real, heldout, generatorStyle: pick.map((i) => curated.pixels(i)) };
}

/** results/judges/README.md from every judge report present there (a judge trained later adds its section). */
function writeJudgesReadme(results: string, machine: string): void {
  const sections: string[] = [];
  for (const name of JUDGE_NAMES) {
    const path = join(results, `${name}.json`);
    if (!existsSync(path)) {
      sections.push(`## ${name}\n\nNot trained yet.`);
      continue;
    }
    const r = readJsonFile(path, 'judge report') as { sha256: string; validity: Record<string, unknown>; command: string; minutes?: number };
    const lines = [`## ${name}`, '', `Weights sha256 \`${r.sha256}\`; made by \`${r.command}\`${r.minutes !== undefined ? ` in ${r.minutes.toFixed(1)} min` : ''}.`, ''];
    const v = r.validity as Partial<ContrastiveValidity> & Partial<PoolRealismValidity> & Record<string, unknown>;
    if (v.pool && v.byGenerator && v.heldoutReal && v.generatorStyle && v.generatorStyleBlurred && v.generatorStyleGridShuffled) {
      const row = (what: string, x: RealScore): string => `| ${what} | ${x.images} | ${x.mean.toFixed(1)} | [${x.low.toFixed(1)}, ${x.high.toFixed(1)}] |`;
      const generators = Object.keys(v.byGenerator);
      lines.push(
        `Trained against the Emoji-Pick pool \`${v.pool.dir}\`: ${v.pool.trainImagesPerGenerator} training-split images from each of its ${generators.length} generators (${generators.join(', ')}), against real judge-style images. The pool's images are JPEG at quality ${v.pool.jpegQuality}; every other image the judge is shown, here and in evaluation, goes through the same JPEG first.`,
        '',
        'Mean 100·P(real) on images it never trained on, with a 95% bootstrap interval over the images:',
        '',
        '| images | n | mean | 95% interval |',
        '| --- | --- | --- | --- |',
        row('held-out real, judge styles', v.heldoutReal),
        ...generators.map((g) => row(`${g}, validation split`, v.byGenerator?.[g] as RealScore)),
        row('real, generator styles (never seen)', v.generatorStyle),
        row('the same, blurred', v.generatorStyleBlurred),
        row('the same, grid-shuffled', v.generatorStyleGridShuffled),
      );
    } else if (v.zeroShot && v.ownBeatsShuffled) {
      const z = v.zeroShot;
      const o = v.ownBeatsShuffled;
      lines.push(
        `- Zero-shot retrieval of ${z.images} real generator-style images (a style it never saw) among all ${z.concepts} concepts: R@1 ${(100 * z.r1).toFixed(1)}%, R@5 ${(100 * z.r5).toFixed(1)}% (chance R@5 ${(100 * z.chanceR5).toFixed(2)}%; goal for the evaluation judge: at least 30%).`,
        `- curated-val: a real image's Align with its own caption beats a shuffled caption for ${(100 * o.share).toFixed(1)}% of ${o.concepts} concepts (goal: at least 90%); mean Align ${o.meanOwn.toFixed(1)} own vs ${o.meanShuffled.toFixed(1)} shuffled.`,
      );
    } else {
      lines.push('Mean 100·P(real):', '', ...Object.entries(v).map(([k, x]) => `- ${k}: ${(x as number).toFixed(1)}`));
    }
    sections.push(lines.join('\n'));
  }
  writeFileAtomic(
    join(results, 'README.md'),
    [
      '# The judges and their validity',
      '',
      'Each judge is trained only on judge-style images (never shown to the generator), frozen and shipped under `data/judges/<name>/` with its config and content hash. Recipes: `JUDGE_RECIPES` in `src/eval/judgeConfigs.ts`.',
      '',
      `Machine: ${machine}.`,
      '',
      ...sections.map((x) => `${x}\n`),
    ].join('\n'),
  );
}

/**
 * Train the judges (docs/PROTOCOL.md) into data/judges/<name>/ with their validity reports in
 * results/judges/: resumable runs under runs/judges/<name>/.
 */
export const judgesCommand = defineCommand({
  name: 'judges',
  summary: 'train the evaluation, annotator and realism judges into data/judges/, their validity reports into results/judges/',
  flags: [
    { name: 'which', value: 'A,B', default: JUDGE_NAMES.join(','), help: 'the judges to train' },
    {
      ...BASE,
      help: 'the realism judge learns to tell real images from samples it draws from this one base model instead of a pool (a biased judge: it rewards any departure from that base); not with --pool',
    },
    {
      name: 'pool',
      value: 'DIR',
      help: `an Emoji-Pick build (npm run pick; default ${EMOJI_PICK_DIR} unless --base is given): the realism judge learns to tell real images from both images of its training pairs, the same number from each generator (at most ${REALISM_POOL.perGenerator}), all through the build's JPEG, and is reported on each generator's validation images; not with --base`,
    },
    { name: 'out', value: 'DIR', default: 'data/judges', help: 'the judges' },
    { name: 'results', value: 'DIR', default: 'results/judges', help: 'the validity reports' },
    FORCE,
    WORKERS,
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    const which = (stringFlag(args, 'which') as string).split(',').map((s) => s.trim());
    for (const w of which) if (!(JUDGE_NAMES as readonly string[]).includes(w)) throw new UsageError(`--which: unknown judge "${w}" (known: ${JUDGE_NAMES.join(', ')})`);
    const out = stringFlag(args, 'out') as string;
    const results = stringFlag(args, 'results') as string;
    const force = args.flags['force'] === true;
    // The pool is the default (docs/PROTOCOL.md: the realism judge learns against the whole
    // generator pool, never the base under test alone); --base asks for the old single-base judge.
    const baseDir = stringFlag(args, 'base');
    if (stringFlag(args, 'pool') !== undefined && baseDir !== undefined)
      throw new UsageError('--pool and --base: give one (the realism judge learns against the samples of one base, or against the images of a pool)');
    for (const w of which) if (existsSync(join(out, w)) && !force) throw new Error(`${join(out, w)} exists; pass --force to retrain it`);
    const poolDir = stringFlag(args, 'pool') ?? (baseDir === undefined ? EMOJI_PICK_DIR : undefined);
    // Checked before any judge trains: a bad pool should not cost the contrastive judges' hour first.
    const pool: PickPool | undefined = poolDir !== undefined && which.includes('realism') ? openPickPool(poolDir) : undefined;
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const data = await openEmojiFromFlags(args, CONTRASTIVE_JUDGE.resolution);
    const command = `npm run judges -- ${argv.join(' ')}`.trim();
    const machine = `${machineLine()}, tfjs ${backend.tfBackend}`;
    const vocabulary = data.manifest.concepts.map((c) => [c.name, c.subgroup, c.group, ...c.keywords].join(', '));
    for (const name of which as JudgeName[]) {
      const recipe = JUDGE_RECIPES[name];
      const runDir = join('runs', 'judges', name);
      const started = Date.now();
      // The judge into --out with what made it, and its validity report into --results.
      const publish = async (judge: ContrastiveJudge | RealismJudge, trainedOn: Record<string, unknown>, validity: unknown): Promise<void> => {
        const minutes = (Date.now() - started) / 60000;
        const file = await saveJudge(join(out, name), judge, { trainedOn, train: recipe.train, command, machine, minutes, validity });
        writeFileAtomic(join(results, `${name}.json`), `${JSON.stringify({ judge: name, sha256: file.weightsManifest.sha256, validity, command, minutes }, null, 1)}\n`);
      };
      if (name !== 'realism') {
        const set = judgeImages(data, recipe.styles);
        const judge = ContrastiveJudge.create(CONTRASTIVE_JUDGE, Tokenizer.fromCaptions(vocabulary, { maxLength: CONTRASTIVE_JUDGE.maxWords }), recipe.train.seed);
        await trainContrastiveJudge(judge, set, emojiConceptOfId, recipe.train, runDir, { command, force });
        const validity = contrastiveValidity(judge, data);
        await publish(judge, { styles: recipe.styles, images: set.size }, validity);
        console.log(
          `${name} judge: zero-shot R@1 ${(100 * validity.zeroShot.r1).toFixed(1)}%, R@5 ${(100 * validity.zeroShot.r5).toFixed(1)}% over ${validity.zeroShot.concepts} concepts; own caption beats a shuffled one for ${(100 * validity.ownBeatsShuffled.share).toFixed(1)}% of curated-val`,
        );
      } else if (pool) {
        const { real, heldout, generatorStyle } = realismRealImages(data, recipe.styles, recipe.train.seed);
        // A run folder per pool: resuming never mixes two pools' images in one judge.
        const { judge, trainedOn, validity } = await trainPoolRealismJudge(
          pool,
          { train: real, heldout, generatorStyle },
          REALISM_JUDGE,
          recipe.train,
          REALISM_POOL.perGenerator,
          join('runs', 'judges', `realism-pool-${pool.identity.slice(0, 12)}`),
          { command, force },
        );
        await publish(judge, trainedOn, validity);
        const at = (x: RealScore): string => `${x.mean.toFixed(1)} [${x.low.toFixed(1)}, ${x.high.toFixed(1)}]`;
        console.log(
          `realism judge (pool ${pool.dir}, ${validity.pool.trainImagesPerGenerator} images per generator), mean 100·P(real): held-out real ${at(validity.heldoutReal)}; ${Object.entries(
            validity.byGenerator,
          )
            .map(([g, x]) => `${g} ${at(x)}`)
            .join(', ')}`,
        );
      } else {
        const baseModelDir = baseDir ?? SHIPPED_BASE_S;
        const base = loadModel(baseModelDir);
        const sampleFile = join(runDir, `samples-${base.file.weightsManifest.sha256.slice(0, 16)}.rgb`);
        const R = base.model.config.resolution;
        const per = R * R * 3;
        const total = REALISM_SAMPLES.train + REALISM_SAMPLES.heldout;
        let generated: Uint8Array[];
        if (existsSync(sampleFile) && readFileSync(sampleFile).length === total * per) {
          const bytes = readFileSync(sampleFile);
          generated = Array.from({ length: total }, (_, i) => new Uint8Array(bytes.buffer, bytes.byteOffset + i * per, per));
        } else {
          // Captions of training images (never a test prompt set), each from its own seed.
          const curated = data.view('curated');
          const rng = new Rng(deriveSeed(recipe.train.seed, 'realism-captions'));
          const captions = Array.from({ length: total }, () => curated.caption(rng.int(curated.size), rng));
          const seeds = captions.map((_, i) => deriveSeed(recipe.train.seed, 'realism-sample', i));
          const pool = await startPool(base.model, base.schedule, workersFlag(args, backend.tfBackend));
          const progress = (d: number, n: number): void => {
            if (d % 64 === 0 || d === n) console.error(`realism judge: sampled ${d}/${n} base-model images`);
          };
          generated = pool
            ? await pool.sample(base.model, base.schedule, captions, seeds, {}, SAMPLE_CHUNK, progress)
            : await sampleBytes(base.model, base.schedule, { kind: 'sample', captions, seeds, options: {}, chunk: SAMPLE_CHUNK }, (d) => progress(d, total));
          await pool?.stop();
          const all = new Uint8Array(total * per);
          generated.forEach((g, i) => all.set(g, i * per));
          writeFileAtomic(sampleFile, all);
        }
        base.model.params.dispose();
        const { real, heldout, generatorStyle } = realismRealImages(data, recipe.styles, recipe.train.seed);
        const judge = RealismJudge.create(REALISM_JUDGE, recipe.train.seed);
        await trainRealismJudge(judge, real, generated.slice(0, REALISM_SAMPLES.train), recipe.train, runDir, { command, force });
        const validity = realismValidity(judge, heldout, generatorStyle, generated.slice(REALISM_SAMPLES.train));
        await publish(judge, { real: real.size, generated: REALISM_SAMPLES.train, base: baseModelDir, baseSha256: base.file.weightsManifest.sha256 }, validity);
        console.log(
          `realism judge, mean 100·P(real): ${Object.entries(validity)
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', ')}`,
        );
      }
      writeJudgesReadme(results, machine);
    }
  },
});
