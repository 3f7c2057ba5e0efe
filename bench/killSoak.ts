/**
 * The kill soak (issue 23): pretraining, post-training, an evaluation and a reproduction are each
 * run once uninterrupted, then again in fresh folders killed with SIGKILL at seeded random moments
 * and restarted with the same command until they finish; each finished trial must equal the
 * uninterrupted run bit for bit (metrics and held-out records without their timings, every
 * weights, state and image file, every evaluation's numbers) and leave no lock or temp file.
 * Not a test: it takes minutes and its kill moments depend on the machine's speed.
 *
 *   npm run build && node --no-liftoff --import tsx bench/killSoak.ts [--kills 24] [--seed 1]
 *        [--work DIR] [--out results/reliability] [--force] [--kinds pretraining,post-training,evaluation,reproduction]
 *
 * The work is the real CLI (`node dist/cli.js pretrain|post-train|eval`) on the real Emoji-T2I
 * data and judges, at the smallest sizes that run every path: the smoke pretraining preset, a
 * 24-step Self-DPO run from the smoke model with a checkpoint every 4 steps, the smoke model's
 * evaluation on unseen-concepts (179 prompts, 4 sampling steps), and a reproduction of two methods (Diffusion-DPO and Self-DPO,
 * on a 16-pair Emoji-Pick build drawn once from the smoke model) on one seed with 16 prompts per set, run by this file itself
 * (`--reproduction DIR --base MODEL --pick BUILD`), as `reproduce()` has no preset that small.
 * Writes <out>/kill-soak.md and kill-soak.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { initBackend } from '../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../src/data/emojiConfig.js';
import { EmojiT2I } from '../src/data/emojiDataset.js';
import { buildEmojiPick } from '../src/pick/buildEmojiPick.js';
import { resolveEmojiPickConfig } from '../src/pick/pickConfig.js';
import { reproduce } from '../src/repro/reproduce.js';
import type { ReproPreset } from '../src/repro/reproPresets.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { Rng } from '../src/util/rng.js';
import { reportDir, reportFlags } from './benchReport.js';

/** Two methods on one seed, 8 steps each, 16 prompts per set: every phase of a reproduction in about a minute (`pick`: the soak's own build). */
const SOAK_PRESET: Omit<ReproPreset, 'pick'> = {
  name: 'soak',
  purpose: 'the kill soak: every phase of a reproduction at the smallest size.',
  bases: [{ name: 'base-S', dir: 'data/base-s', methods: ['dpo', 'self-dpo'], train: { steps: 8, batchSize: 4, microBatch: 4 }, log: { every: 2, checkpointEvery: 2, evalEvery: 4, evalPairs: 8 } }],
  seeds: [1],
  eval: { prompts: { 'curated-val': 16, 'unseen-concepts': 16, 'keyword-only': 16 }, sampling: { steps: 4, guidance: 3 } },
  grid: { prompts: 2, seeds: [0] },
};

/** The post-training run's config on top of configs/self-dpo.json: on the curated set, as the soak's earlier reports ran it. */
const POST_TRAIN_CONFIG = {
  data: { view: 'curated', pairs: '' },
  train: { steps: 24, batchSize: 8, microBatch: 8 },
  log: { every: 4, checkpointEvery: 4, evalEvery: 8, evalPairs: 16 },
};

/** Record fields that are timings, not results. */
const TIMINGS = new Set(['sec', 'imagesPerSec', 'seconds', 'cached', 'command']);

/** Files whose content records when or how often a run was started (invocations, times; Table 1 quotes how long the Emoji-Pick build took): only their presence is checked. */
const PRESENCE_ONLY = /(^|\/)(config\.json|preset\.json|done\.json|reproduce\.jsonl|units\.csv|README\.md|emoji-pick-build\.json|build\.json|lineage\.json|table1\.(md|csv))$|\.(png|svg)$/;

interface Kind {
  name: string;
  /** The node arguments of the command that does the work into `dir`. */
  argv: (dir: string) => string[];
  /** Whether the work in `dir` has finished (a kill after its last write needs no restart). */
  done?: (dir: string) => boolean;
}

interface Trial {
  kind: string;
  trial: number;
  /** ms after each start at which it was killed (SIGKILL). */
  kills: number[];
  /** Starts that ended before their kill moment. */
  finishedEarly: number;
  starts: number;
  outcome: 'exact' | 'diverged' | 'failed';
  compared: number;
  problems: string[];
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Run `node args` in the checkout; kill it with SIGKILL after `killAfter` ms if given. */
function runNode(args: string[], killAfter?: number): Promise<{ code: number | null; killed: boolean; ms: number; stderr: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    let killed = false;
    const timer = killAfter !== undefined ? setTimeout(() => ((killed = child.kill('SIGKILL')), undefined), killAfter) : undefined;
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, killed: killed && code === null, ms: Date.now() - started, stderr });
    });
  });
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
}

/** A text file with the run's own folder written as <DIR> and timings left out of JSON records. */
function normalised(file: string, root: string): string {
  const text = readFileSync(file, 'utf8').replaceAll(root, '<DIR>');
  const strip = (l: string): string => JSON.stringify(JSON.parse(l, (k, v: unknown) => (TIMINGS.has(k) ? undefined : v)));
  if (file.endsWith('.jsonl'))
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(strip)
      .join('\n');
  if (file.endsWith('.json')) return strip(text);
  return text;
}

/** Every difference between a trial's folder and the uninterrupted run's, and how many files were compared bit for bit. */
function compare(ref: string, dir: string): { problems: string[]; compared: number } {
  const problems: string[] = [];
  let compared = 0;
  const refFiles = walk(ref).map((f) => relative(ref, f));
  const trialFiles = new Set(walk(dir).map((f) => relative(dir, f)));
  for (const f of trialFiles) if (/(^|\/)\.lock$|\.tmp$|\.tmp\//.test(f)) problems.push(`${f}: left behind`);
  for (const f of refFiles) {
    if (!trialFiles.has(f)) {
      problems.push(`${f}: missing`);
      continue;
    }
    if (PRESENCE_ONLY.test(f)) continue;
    const a = join(ref, f);
    const b = join(dir, f);
    const same = /\.(jsonl?|md|csv|txt)$/.test(f) ? normalised(a, ref) === normalised(b, dir) : readFileSync(a).equals(readFileSync(b));
    compared += 1;
    if (!same) problems.push(`${f}: differs`);
  }
  for (const f of trialFiles) if (!refFiles.includes(f) && !/\.(lock|tmp)$/.test(f)) problems.push(`${f}: not in the uninterrupted run`);
  return { problems, compared };
}

/** The reproduction child: `--reproduction DIR --base MODEL --pick BUILD`. */
async function reproductionChild(dir: string, base: string, pick: string): Promise<void> {
  await initBackend({ backend: 'wasm', quiet: true });
  const { dir: dataDir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  await reproduce({ ...SOAK_PRESET, pick }, EmojiT2I.open(dataDir), {
    out: join(dir, 'results'),
    work: join(dir, 'work'),
    bases: { 'base-S': base },
    judges: join('data', 'judges'),
    workers: 1,
    log: () => {},
  });
}

/** The reproduction's Emoji-Pick build (made once, not killed): the smoke model twice as the pool, the shipped annotator. */
async function soakPick(out: string, base: string): Promise<void> {
  await initBackend({ backend: 'wasm', quiet: true });
  const { dir: dataDir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const config = resolveEmojiPickConfig({
    pairs: { train: 16, validation: 4 },
    generators: [
      { name: 'smoke-a', model: base },
      { name: 'smoke-b', model: base },
    ],
    settings: { steps: [4], guidance: [3] },
    annotator: join('data', 'judges', 'annotator'),
    shardPairs: 8,
  });
  await buildEmojiPick(EmojiT2I.open(dataDir), config, out, { workers: 1, backend: 'wasm', quiet: true });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [
    { name: 'kills', value: 'N', help: 'random kills in all (default: 24)' },
    { name: 'seed', value: 'N', help: 'the seed of the kill moments' },
    { name: 'work', value: 'DIR', help: 'keep the runs here (default: a temp folder, removed when all agree)' },
    ...reportFlags('results/reliability'),
    { name: 'kinds', value: 'A,B', help: 'only these kinds of work' },
    { name: 'reproduction', value: 'DIR', help: '(internal) run one reproduction unit into DIR' },
    { name: 'base', value: 'DIR', help: '(internal) the base of --reproduction' },
    { name: 'pick', value: 'DIR', help: '(internal) the Emoji-Pick build of --reproduction' },
  ]);
  if (typeof args.flags['reproduction'] === 'string') return reproductionChild(args.flags['reproduction'], args.flags['base'] as string, args.flags['pick'] as string);
  const out = reportDir(args, 'results/reliability', ['kill-soak.md', 'kill-soak.json']);
  const killTarget = numberFlag(args, 'kills', 24);
  const seed = numberFlag(args, 'seed', 1);
  const work = (args.flags['work'] as string | undefined) ?? mkdtempSync(join(tmpdir(), 'selfdpo-soak-'));
  mkdirSync(work, { recursive: true });
  if (!existsSync(join('dist', 'cli.js'))) throw new Error('dist/cli.js not found: run `npm run build` first');
  const started = Date.now();
  const load0 = loadavg()[0] as number;
  const cli = (...a: string[]): string[] => ['--no-liftoff', join('dist', 'cli.js'), ...a];

  // The smoke model every other kind starts from (made once, not killed).
  const baseRun = join(work, 'base-run');
  const made = await runNode(cli('pretrain', '--preset', 'smoke', '--steps', '12', '--workers', '1', '--out', baseRun));
  if (made.code !== 0) throw new Error(`the smoke base failed:\n${made.stderr}`);
  const base = join(baseRun, 'model');
  const pick = join(work, 'emoji-pick');
  await soakPick(pick, base);
  const postConfig = join(work, 'post-train.json');
  writeFileSync(postConfig, `${JSON.stringify(POST_TRAIN_CONFIG)}\n`);
  const kinds: Kind[] = [
    { name: 'pretraining', argv: (d) => cli('pretrain', '--preset', 'smoke', '--steps', '24', '--workers', '1', '--out', d) },
    { name: 'post-training', argv: (d) => cli('post-train', '--method', 'self-dpo', '--base', base, '--config', postConfig, '--workers', '1', '--out', d) },
    {
      name: 'evaluation',
      argv: (d) =>
        cli(
          'eval',
          '--model',
          base,
          '--prompts',
          'unseen-concepts',
          '--sample-steps',
          '4',
          '--judges',
          join('data', 'judges'),
          '--cache',
          join(d, 'cache'),
          '--out',
          join(d, 'eval.json'),
          '--workers',
          '1',
        ),
      // The command refuses to replace its result: once written, the evaluation is done.
      done: (d) => existsSync(join(d, 'eval.json')),
    },
    { name: 'reproduction', argv: (d) => ['--no-liftoff', '--import', 'tsx', join('bench', 'killSoak.ts'), '--reproduction', d, '--base', base, '--pick', pick] },
  ];

  // --kinds pretraining,evaluation: a part of the soak (for trying the script; the report's soak runs all four).
  const only = typeof args.flags['kinds'] === 'string' ? args.flags['kinds'].split(',') : undefined;
  if (only) kinds.splice(0, kinds.length, ...kinds.filter((k) => only.includes(k.name)));
  const rng = new Rng(seed);
  const trials: Trial[] = [];
  const references: Record<string, number> = {};
  for (const kind of kinds) {
    const ref = join(work, kind.name, 'uninterrupted');
    const r = await runNode(kind.argv(ref));
    if (r.code !== 0) throw new Error(`${kind.name}: the uninterrupted run failed:\n${r.stderr}`);
    references[kind.name] = r.ms;
    log(`${kind.name}: uninterrupted in ${(r.ms / 1000).toFixed(1)} s`);
    let delivered = 0;
    for (let t = 1; delivered < Math.ceil(killTarget / kinds.length); t++) {
      const dir = join(work, kind.name, `trial${t}`);
      const trial: Trial = { kind: kind.name, trial: t, kills: [], finishedEarly: 0, starts: 0, outcome: 'exact', compared: 0, problems: [] };
      // One or two kills, each at a moment drawn over the uninterrupted run's length (start-up included).
      const planned = 1 + rng.int(2);
      let finished = false;
      for (let k = 0; k < planned && !finished; k++) {
        const at = Math.round((0.03 + 0.97 * rng.next()) * r.ms);
        const run = await runNode(kind.argv(dir), at);
        trial.starts += 1;
        if (run.killed) trial.kills.push(at);
        else if (run.code === 0) {
          finished = true;
          trial.finishedEarly += 1;
        } else trial.problems.push(`start ${trial.starts} exited ${String(run.code)}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
      if (!finished && trial.problems.length === 0 && !kind.done?.(dir)) {
        const run = await runNode(kind.argv(dir));
        trial.starts += 1;
        if (run.code !== 0) trial.problems.push(`the resume exited ${String(run.code)}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
      if (trial.problems.length > 0) trial.outcome = 'failed';
      else {
        const c = compare(ref, dir);
        trial.compared = c.compared;
        trial.problems = c.problems;
        trial.outcome = c.problems.length === 0 ? 'exact' : 'diverged';
      }
      delivered += trial.kills.length;
      trials.push(trial);
      log(
        `${kind.name} trial ${t}: killed at ${trial.kills.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '-'}; ${trial.outcome} (${trial.compared} files compared)${trial.problems.length ? `: ${trial.problems.join('; ')}` : ''}`,
      );
      if (trial.outcome === 'exact') rmSync(dir, { recursive: true, force: true });
    }
  }

  const minutes = (Date.now() - started) / 60000;
  const command = `node --no-liftoff --import tsx bench/killSoak.ts ${argv.join(' ')}`.trim();
  const kills = trials.reduce((n, t) => n + t.kills.length, 0);
  const bad = trials.filter((t) => t.outcome !== 'exact');
  const summary = kinds.map((k) => {
    const ts = trials.filter((t) => t.kind === k.name);
    return `| ${k.name} | ${(references[k.name] as number) / 1000} | ${ts.length} | ${ts.reduce((n, t) => n + t.kills.length, 0)} | ${ts.filter((t) => t.outcome === 'exact').length} | ${ts.filter((t) => t.outcome === 'diverged').length} | ${ts.filter((t) => t.outcome === 'failed').length} | ${ts.reduce((n, t) => n + t.compared, 0)} |`;
  });
  const md = [
    '# Kill soak',
    '',
    `Command: \`npm run build && ${command}\` (${new Date().toISOString().slice(0, 10)}; seed ${seed}; ${minutes.toFixed(1)} min on ${cpus().length} cores shared with other work, load average ${load0.toFixed(1)} at the start).`,
    '',
    `**${kills} kills (SIGKILL) in ${trials.length} trials; ${trials.length - bad.length} finished equal to the uninterrupted run bit for bit, ${bad.filter((t) => t.outcome === 'diverged').length} diverged, ${bad.filter((t) => t.outcome === 'failed').length} lost (a start that failed).**`,
    '',
    '| work | uninterrupted (s) | trials | kills | exact | diverged | lost | files compared |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summary,
    '',
    "Each trial starts the command in a fresh folder, kills it (SIGKILL) once or twice at moments drawn uniformly over the uninterrupted run's length (the seed above; each moment is listed below, in seconds after that start), then runs the same command until it finishes.",
    "Compared with the uninterrupted run: every file it wrote must be there; metrics.jsonl, heldout.jsonl and the evaluations' JSON equal without their timing fields (sec, imagesPerSec, seconds, cached, command); weights, states, cached images and grids equal byte for byte; config.json, preset.json, done.json, units.csv, emoji-pick-build.json, Table 1, README.md and charts only present (they record each start, or times). No `.lock` or `.tmp` may be left behind.",
    '',
    '| work | trial | killed at (s) | starts | outcome | files compared |',
    '| --- | ---: | --- | ---: | --- | ---: |',
    ...trials.map(
      (t) =>
        `| ${t.kind} | ${t.trial} | ${t.kills.map((ms) => (ms / 1000).toFixed(1)).join(', ') || '-'}${t.finishedEarly ? ' (finished before the next)' : ''} | ${t.starts} | ${t.outcome}${t.problems.length ? `: ${t.problems.join('; ')}` : ''} | ${t.compared} |`,
    ),
    '',
  ].join('\n');
  writeFileAtomic(join(out, 'kill-soak.json'), `${JSON.stringify({ command, seed, killTarget, minutes, references, trials }, null, 1)}\n`);
  writeFileAtomic(join(out, 'kill-soak.md'), md);
  process.stdout.write(md);
  if (args.flags['work'] === undefined && bad.length === 0) rmSync(work, { recursive: true, force: true });
  if (bad.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
