/**
 * How hard each term of Self-DPO's loss (Eq. 9) pulls at a base model, at several betas: the
 * gradient norms of lambda1·L_MSE and lambda2·L_Self-DPO (`lossTermGradientNorms`), on the
 * held-out pairs a Self-DPO run on the Emoji-Pick build is probed on (its validation winners with
 * random-image losers, the run's own probe), at policy = reference, which is where every run
 * starts. Table 4 ("w/o MSE is close to with MSE") only tests something at a beta where the two
 * norms are within 10x of each other: the trainer clips their sum to norm 1, so a preference term
 * 1,000x the MSE term leaves lambda1 nothing to change.
 *
 *   node --no-liftoff --import tsx bench/lossTermRatio.ts [--base data/base-s] [--betas 5000,500,50,5]
 *        [--pairs 128] [--pick data/emoji-pick] [--out results/tuning] [--force]
 *
 * Writes <out>/loss-terms-<base folder name>.md and .json (earlier results kept unless --force).
 */
import { basename, join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { openEmojiFromFlags } from '../src/commands/emojiFlags.js';
import { EMOJI_FLAGS } from '../src/commands/commonFlags.js';
import { getDowngrade } from '../src/methods/downgrades/registry.js';
import { loadModel } from '../src/model/modelFile.js';
import { emojiTrainData } from '../src/train/emojiTrainData.js';
import { lossTermGradientNorms } from '../src/train/lossTermNorms.js';
import { probeOf } from '../src/train/pairProbe.js';
import { methodConfig } from '../src/train/postTrainConfig.js';
import { UNET_PREFIX } from '../src/model/textToImage.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { reportDir, reportFlags } from './benchReport.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [
    { name: 'base', value: 'DIR', help: 'default: data/base-s' },
    { name: 'betas', value: 'X,Y,..', help: 'default: 5000,500,50,5' },
    { name: 'pairs', value: 'N', help: 'probe pairs (default: 128, as a run probes)' },
    { name: 'pick', value: 'DIR', help: 'the Emoji-Pick build (default: data/emoji-pick)' },
    ...reportFlags('results/tuning'),
    ...EMOJI_FLAGS,
  ]);
  const base = (args.flags['base'] as string | undefined) ?? join('data', 'base-s');
  const pick = (args.flags['pick'] as string | undefined) ?? join('data', 'emoji-pick');
  const betas = String(args.flags['betas'] ?? '5000,500,50,5')
    .split(',')
    .map(Number);
  if (betas.some((b) => !(b > 0))) throw new Error(`--betas: expected positive numbers, got "${String(args.flags['betas'])}"`);
  const pairs = numberFlag(args, 'pairs', 128);
  const name = `loss-terms-${basename(base)}`;
  const out = reportDir(args, 'results/tuning', [`${name}.md`, `${name}.json`]);
  await initBackend({ backend: 'wasm', quiet: true });
  const { model, schedule, file } = loadModel(base);
  const data = await openEmojiFromFlags(args, model.config.resolution);
  // Self-DPO's own config (lambda1 = lambda2 = 0.5) and its own probe: the build's validation winners, random-image losers, seed 1.
  const config = methodConfig('self-dpo', { base, data: { pairs: pick }, log: { evalPairs: pairs } });
  const run = await emojiTrainData(data, config, model.config.resolution);
  const probe = probeOf(run.heldout, getDowngrade(config.downgrade), model, pairs, config.train.seed, schedule.steps);
  const reference = model.params.clone(false);
  const variables = model.params.names.filter((n) => n.startsWith(UNET_PREFIX)).map((n) => model.params.variable(n));
  const rows: Array<{ beta: number; mse: number; preference: number; total: number; ratio: number; seconds: number }> = [];
  for (const beta of betas) {
    const t0 = performance.now();
    const n = lossTermGradientNorms(model, reference, schedule, variables, probe, { beta, lambda1: config.loss.lambda1, lambda2: config.loss.lambda2 });
    rows.push({ beta, mse: n.mse, preference: n.preference, total: n.total, ratio: n.ratio, seconds: (performance.now() - t0) / 1000 });
    console.error(`beta ${beta}: |grad MSE| ${n.mse.toExponential(3)}  |grad pref| ${n.preference.toExponential(3)}  ratio ${n.ratio.toFixed(2)}`);
  }
  reference.dispose();
  model.params.dispose();
  const command = `node --no-liftoff --import tsx bench/lossTermRatio.ts ${argv.join(' ')}`.trim();
  const md = [
    `# Loss-term gradient norms of Self-DPO on ${base}`,
    '',
    `At policy = reference (where every run starts), on ${probe.size} held-out pairs: the validation winners of the Emoji-Pick build \`${pick}\` with random-image losers (Self-DPO's own probe, seed ${config.train.seed}); lambda1 = ${config.loss.lambda1}, lambda2 = ${config.loss.lambda2}; norms over the UNet's weights, as the trainer trains. Base weights sha256 ${file.weightsManifest.sha256.slice(0, 16)}...`,
    '',
    '| beta | norm of the MSE term | norm of the preference term | norm of the sum | preference / MSE |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.beta} | ${r.mse.toExponential(3)} | ${r.preference.toExponential(3)} | ${r.total.toExponential(3)} | ${r.ratio.toFixed(2)} |`),
    '',
    // At policy = reference the DPO term's inside is 0 for every pair, so its gradient is beta/4 times the gradient of (e_w - e_l): the ratio is linear in beta there.
    'At policy = reference the preference term is -log sigmoid(0) for every pair, so its gradient is beta/4 times that of the error difference: the ratio is proportional to beta (the rows check it). As a run learns, sigmoid saturates and the preference term pulls less.',
    '',
    `Command: \`${command}\``,
    '',
  ].join('\n');
  writeFileAtomic(join(out, `${name}.md`), md);
  writeFileAtomic(
    join(out, `${name}.json`),
    `${JSON.stringify({ base, baseSha256: file.weightsManifest.sha256, pick, pairs: probe.size, lambda1: config.loss.lambda1, lambda2: config.loss.lambda2, rows, command }, null, 1)}\n`,
  );
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
