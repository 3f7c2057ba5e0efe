import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { initBackend } from '../../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { saveJudge } from '../../src/eval/judgeFile.js';
import { conceptCaptions } from '../../src/eval/judgeValidity.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { queueConnection } from '../../src/queue/queueConnection.js';
import { QUEUE_NAME } from '../../src/queue/queueJobs.js';
import { reproduceOnQueue } from '../../src/queue/queueReproduce.js';
import { queueStatus, retryFailed } from '../../src/queue/queueStatus.js';
import { tuneOnQueue } from '../../src/queue/queueTune.js';
import { readTuningRuns } from '../../src/report/tuningReport.js';
import { resolvePostTrainConfig } from '../../src/train/postTrainConfig.js';
import { reproduce } from '../../src/repro/reproduce.js';
import type { PresetBase, ReproPreset } from '../../src/repro/reproPresets.js';
import { presetUnitNames } from '../../src/repro/reproUnits.js';
import { JsonLines } from '../../src/runs/progress.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { smallEmojiPick } from '../pick/pickHelpers.js';
import { smokeBase } from '../train/trainHelpers.js';
import { redisMissing, startRedis, type RedisServer } from './redisServer.js';

const repo = join(__dirname, '..', '..');

/** Five units (the base, two methods on two seeds), two steps each, three prompts per set; `pick` is set to the test's own small Emoji-Pick build. */
let SMOKE: ReproPreset = {
  name: 'smoke',
  purpose: 'a test of the queue.',
  bases: [{ name: 'base-S', dir: 'data/base-s', methods: ['dpo', 'self-dpo'], train: { steps: 2, batchSize: 4, microBatch: 4 }, log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalPairs: 4 } }],
  seeds: [1, 2],
  pick: '',
  eval: { prompts: { 'curated-val': 3, 'unseen-concepts': 3, 'keyword-only': 3 }, sampling: { steps: 2, guidance: 2 } },
  grid: { prompts: 2, seeds: [0] },
};

/** A queue worker as its own process (its own group, so that a kill takes its unit's process too), with its log. */
interface WorkerProcess {
  proc: ChildProcess;
  log: () => string;
  /** Resolves with the first log line matching `re`. */
  waitFor: (re: RegExp) => Promise<string>;
}

const workers: WorkerProcess[] = [];

function startWorker(url: string, work: string, extra: string[] = []): WorkerProcess {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'src', 'cli.ts'), 'worker', '--queue', url, '--work', work, '--workers', '1', '--backend', 'wasm', '--stalled-seconds', '3', ...extra],
    {
      cwd: repo,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  const waiting: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  proc.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of [...waiting]) {
      const line = text.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const worker: WorkerProcess = {
    proc,
    log: () => text,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const line = text.split('\n').find((l) => re.test(l));
        if (line !== undefined) return resolve(line);
        waiting.push({ re, resolve });
        proc.once('exit', (code, signal) => reject(new Error(`worker ended (${signal ?? code}) before a line matching ${re}:\n${text.slice(-3000)}`)));
      }),
  };
  workers.push(worker);
  return worker;
}

/** SIGKILL a worker and the unit process it started, as when its machine dies. */
async function killWorker(w: WorkerProcess): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => w.proc.once('exit', resolve));
  process.kill(-(w.proc.pid as number), 'SIGKILL');
  await exited;
}

const missing = redisMissing();
const skip = missing !== undefined && process.env['SELFDPO_REQUIRE_REDIS'] !== '1' ? missing : false;
let redis: RedisServer | undefined;
let root = '';
let data: EmojiT2I;
let judges = '';
let base = '';

before(async () => {
  if (skip) return;
  assert.equal(missing, undefined, missing);
  await initBackend({ backend: 'wasm', quiet: true });
  data = EmojiT2I.open((await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() })).dir);
  root = mkdtempSync(join(tmpdir(), 'queue-'));
  // Untrained toy judges, as in the local smoke reproduction: the queue, not the scores, is under test.
  judges = join(root, 'judges');
  const tokenizer = Tokenizer.fromCaptions(conceptCaptions(data).captions, { maxLength: 8 });
  const contrastive = { resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 };
  await saveJudge(join(judges, 'eval'), ContrastiveJudge.create(contrastive, tokenizer, 1), { test: true });
  await saveJudge(join(judges, 'annotator'), ContrastiveJudge.create(contrastive, tokenizer, 2), { test: true });
  await saveJudge(join(judges, 'realism'), RealismJudge.create({ resolution: 32, image: { channels: [8], groups: 4, width: 8 } }, 3), { test: true });
  base = await smokeBase();
  const pick = join(root, 'emoji-pick');
  await smallEmojiPick(data, pick, { annotator: join(judges, 'annotator'), base });
  SMOKE = { ...SMOKE, pick };
  redis = await startRedis();
});

after(async () => {
  // The test's own processes only: its workers (with their units' processes) and its server.
  for (const w of workers) await killWorker(w);
  await redis?.stop();
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

test('2 workers run a smoke reproduction from the queue; one SIGKILLed mid-unit, its unit reruns on the other; the tables equal a local run', { skip }, async () => {
  const local = join(root, 'local');
  await reproduce(SMOKE, data, { out: local, work: join(root, 'local-work'), bases: { 'base-S': base }, judges, workers: 1, log: () => {} });

  const url = `${(redis as RedisServer).url}/0`;
  const out = join(root, 'queued');
  const work = join(root, 'queued-work');
  const coordinator = reproduceOnQueue(SMOKE, data, { out, work, bases: { 'base-S': base }, judges, connection: queueConnection(url), attempts: 3, pollMs: 300, log: () => {} });
  const w1 = startWorker(url, join(root, 'w1'));
  const w2 = startWorker(url, join(root, 'w2'));
  // The first worker to be in the middle of a method's training dies there, with its unit's process.
  const line = await Promise.race([w1.waitFor(/: train step 1\//), w2.waitFor(/: train step 1\//)]);
  const [victim, survivor] = w1.log().includes(line) ? [w1, w2] : [w2, w1];
  const killedUnit = (/: ([a-z-]+-s\d+): train step 1\//.exec(line) as RegExpExecArray)[1] as string;
  await killWorker(victim);
  await coordinator;

  const units = presetUnitNames(SMOKE);
  for (const u of units) assert.ok(existsSync(join(out, 'runs', u, 'done.json')), `${u} is done`);
  // Every unit landed once; the killed one was taken back from the dead worker and finished by the other.
  const events = new JsonLines(join(work, 'reproduce.jsonl')).read() as Array<{ unit: string; worker: string; attemptsStarted: number; stalled: number }>;
  assert.deepEqual(events.map((e) => e.unit).sort(), [...units].sort());
  const killed = events.find((e) => e.unit === killedUnit);
  assert.equal(killed?.worker.split(':')[1], String(survivor.proc.pid), `${killedUnit} finished on the surviving worker`);
  assert.ok((killed?.stalled ?? 0) >= 1, `${killedUnit}'s job was detected as stalled`);
  assert.ok((killed?.attemptsStarted ?? 0) >= 2);
  const queue = new Queue(QUEUE_NAME, { connection: queueConnection(url).options });
  try {
    const counts = await queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed');
    assert.deepEqual(counts, { completed: units.length, failed: 0, active: 0, waiting: 0, delayed: 0 });
  } finally {
    await queue.close();
  }

  // The same tables as the local run, byte for byte (Table 1 too: both read the one Emoji-Pick build's record;
  // Tables 3 and 4 would repeat Table 2's Diffusion-DPO and Self-DPO rows, so neither run draws them).
  for (const f of ['table1.md', 'table1.csv', 'table2.md', 'table2.csv', 'units.csv']) {
    assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(local, f), 'utf8'), `${f}: queued = local`);
  }
  for (const u of units) {
    for (const f of ['eval-curated-val.json', 'eval-keyword-only.json', 'metrics.jsonl'].filter((x) => existsSync(join(local, 'runs', u, x)))) {
      // Measured seconds aside, and the model's path: each names where its model is (the worker's folder).
      const strip = (text: string): string => text.replace(/"(sec|seconds|model)":[^,}]+/g, '');
      assert.equal(strip(readFileSync(join(out, 'runs', u, f), 'utf8')), strip(readFileSync(join(local, 'runs', u, f), 'utf8')), `${u}/${f}: queued = local`);
    }
  }
  assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /units run by workers of the queue redis:\/\/127\.0\.0\.1:\d+\/0/);

  // Enqueueing the finished preset again adds nothing and reruns nothing: it only redraws the report.
  const before = readFileSync(join(out, 'table2.md'), 'utf8');
  await reproduceOnQueue(SMOKE, data, { out, work, bases: { 'base-S': base }, judges, connection: queueConnection(url), attempts: 3, pollMs: 300, log: () => {} });
  assert.equal(readFileSync(join(out, 'table2.md'), 'utf8'), before);
  assert.equal((new JsonLines(join(work, 'reproduce.jsonl')).read() as unknown[]).length, units.length);
  await killWorker(survivor);
});

test('a worker whose base weights differ refuses the units, naming why, and the other worker does them', { skip }, async () => {
  const preset: ReproPreset = { ...SMOKE, name: 'smoke-refuse', bases: [{ ...(SMOKE.bases[0] as PresetBase), methods: ['self-dpo'] }], seeds: [1] };
  // Its own Redis database: an empty queue.
  const url = `${(redis as RedisServer).url}/1`;
  const out = join(root, 'refuse');
  const work = join(root, 'refuse-work');
  const coordinator = reproduceOnQueue(preset, data, { out, work, bases: { 'base-S': base }, judges, connection: queueConnection(url), attempts: 3, pollMs: 300, log: () => {} });
  const other = startWorker(url, join(root, 'w-other'), ['--base', await smokeBase(8)]);
  const refusal = await other.waitFor(/refused job/);
  assert.match(
    refusal,
    /refused job smoke-refuse\.(base|self-dpo-s1)\.[0-9a-f]{16} \(unit (base|self-dpo-s1) of smoke-refuse\): this checkout's base weights \(.*: [0-9a-f]{12} here, [0-9a-f]{12} in the job\) differ from the job's; left on the queue for another worker/,
  );
  const good = startWorker(url, join(root, 'w-good'));
  await coordinator;
  const events = new JsonLines(join(work, 'reproduce.jsonl')).read() as Array<{ unit: string; worker: string }>;
  assert.deepEqual(events.map((e) => e.unit).sort(), ['base', 'self-dpo-s1']);
  for (const e of events) assert.equal(e.worker.split(':')[1], String(good.proc.pid), `${e.unit} was done by the matching worker`);
  assert.doesNotMatch(other.log(), /took /, 'the other worker took nothing');
  await killWorker(other);
  await killWorker(good);
});

test('a unit that fails every attempt is marked failed with its error, shown by status, and retry requeues it', { skip }, async () => {
  const preset: ReproPreset = { ...SMOKE, name: 'smoke-fail', bases: [{ ...(SMOKE.bases[0] as PresetBase), methods: [] }], seeds: [1] };
  const url = `${(redis as RedisServer).url}/2`;
  const connection = queueConnection(url);
  // The evaluation judge's weights no longer match their manifest: the unit fails where it loads them.
  const broken = join(root, 'judges-broken');
  cpSync(judges, broken, { recursive: true });
  writeFileSync(join(broken, 'eval', 'weights.bin'), 'not the weights');
  const opts = { out: join(root, 'fail'), work: join(root, 'fail-work'), base, judges: broken, connection, attempts: 2, pollMs: 300, log: () => {} };
  const coordinator = reproduceOnQueue(preset, data, opts);
  const worker = startWorker(url, join(root, 'w-fail'));
  await assert.rejects(coordinator, /1 job\(s\) failed on the queue \(base: .*eval.*weights\.bin: sha256 .* does not match the manifest's/);
  assert.match(
    await queueStatus(connection),
    /smoke-fail \(reproduction\): 0 done, 0 running, 0 waiting, 1 failed; nothing left\n {2}failed {3}base after 2 attempt\(s\): .*does not match the manifest's/,
  );
  assert.ok(!existsSync(join(opts.out, 'runs', 'base', 'done.json')));

  // Mended, requeued, collected by the same command.
  copyFileSync(join(judges, 'eval', 'weights.bin'), join(broken, 'eval', 'weights.bin'));
  const retried = await retryFailed(connection);
  assert.equal(retried.length, 1);
  assert.match(retried[0] as string, /^smoke-fail \(reproduction\): base \(smoke-fail\.base\.[0-9a-f]{16}\)$/);
  await reproduceOnQueue(preset, data, opts);
  assert.ok(existsSync(join(opts.out, 'runs', 'base', 'done.json')));
  assert.match(await queueStatus(connection), /smoke-fail \(reproduction\): 1 done, 0 running, 0 waiting, 0 failed; nothing left/);
  await killWorker(worker);
});

test('a tuning sweep on the queue: each setting a job, its records where a local sweep keeps them', { skip }, async () => {
  const url = `${(redis as RedisServer).url}/3`;
  const results = join(root, 'tuning');
  const settings = (
    [
      ['1e-5', 1e-5],
      ['3e-5', 3e-5],
    ] as const
  ).map(([text, lr]) => {
    const config = resolvePostTrainConfig({ base, train: { steps: 2, batchSize: 4, microBatch: 4, lr }, log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalPairs: 4 } }, 'sweep');
    return { name: `self-dpo-lr${text}`, config, command: `npm run post-train -- --lr ${text}` };
  });
  const worker = startWorker(url, join(root, 'w-tune'));
  await tuneOnQueue(settings, data, { results, connection: queueConnection(url), attempts: 2, log: () => {}, pollMs: 300 });
  const runs = readTuningRuns(results);
  assert.deepEqual(
    runs.map((r) => [r.name, r.config.train.lr, r.metrics.length, r.probe.length > 0]),
    [
      ['self-dpo-lr1e-5', 1e-5, 2, true],
      ['self-dpo-lr3e-5', 3e-5, 2, true],
    ],
  );
  // The same sweep again: nothing new to train.
  await tuneOnQueue(settings, data, { results, connection: queueConnection(url), attempts: 2, log: () => {}, pollMs: 300 });
  assert.equal((worker.log().match(/took tune\./g) ?? []).length, 2);
  await killWorker(worker);
});
