/**
 * A reproduction preset over N queue workers on this machine: a fresh redis-server on a free
 * port, the coordinator (`dist/cli.js reproduce --queue`) and N workers (`dist/cli.js worker`,
 * T threads each) as processes, timed from the first enqueue to the report; then per unit its
 * compute (training + evaluation, as done.json records them) against its wall time on the
 * worker and on the queue, the difference being what the queue costs.
 *
 *   npm run build && node --no-liftoff --import tsx bench/scaleOut.ts --preset quick --workers 2 --threads 1 --out .scratch/scale-out/w2
 *
 * With --local, the same preset without a queue (`dist/cli.js reproduce --workers T`), each
 * unit's wall time from the finish stamps of its done.json: what a unit costs without the queue.
 * Prints a markdown table; everything it makes lives under --out (never results/<preset>).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JsonLines } from '../src/runs/progress.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { startRedis } from '../test/queue/redisServer.js';
import { loadavg } from './machineLoad.js';

interface Landed {
  unit: string;
  worker: string;
  trainSeconds: number;
  evalSeconds: number;
  workerSeconds: number;
  waitedSeconds: number;
  landedAfterSeconds: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), [
    { name: 'preset', value: 'NAME', help: 'the reproduction preset (default: quick)' },
    { name: 'workers', value: 'N', help: 'queue workers, each its own process (default: 2)' },
    { name: 'threads', value: 'N', help: 'threads per worker (default: 1)' },
    { name: 'out', value: 'DIR', help: 'a new folder for the run (default: .scratch/scale-out/w<workers>)' },
    { name: 'local', help: 'the same preset without the queue, for the comparison' },
  ]);
  const preset = (args.flags['preset'] as string | undefined) ?? 'quick';
  const workers = numberFlag(args, 'workers', 2);
  const threads = numberFlag(args, 'threads', 1);
  const out = resolve((args.flags['out'] as string | undefined) ?? join('.scratch', 'scale-out', `w${workers}`));
  if (existsSync(out)) throw new Error(`${out} exists: choose a new --out (a measurement starts from nothing)`);
  mkdirSync(out, { recursive: true });
  const cli = join(__dirname, '..', 'dist', 'cli.js');
  if (args.flags['local'] === true) return local(cli, preset, threads, out);
  const redis = await startRedis();
  const url = `${redis.url}/0`;
  // The kit's own command lines, as a user runs them (npm run X is a build and then these).
  // Each process's log into a file under --out (a pipe nobody reads would stall it when full).
  const node = (argv: string[], log: string): ChildProcess => spawn(process.execPath, ['--no-liftoff', cli, ...argv], { stdio: ['ignore', 'ignore', openSync(join(out, log), 'w')] });
  const load = loadavg();
  const started = Date.now();
  const coordinator = node(['reproduce', '--preset', preset, '--queue', url, '--out', join(out, 'results'), '--work', join(out, 'work')], 'coordinator.log');
  const procs = Array.from({ length: workers }, (_, i) => node(['worker', '--queue', url, '--work', join(out, `worker${i + 1}`), '--workers', String(threads)], `worker${i + 1}.log`));
  const code = await new Promise<number | null>((done) => coordinator.once('exit', done));
  const wall = (Date.now() - started) / 1000;
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((done) => (p.exitCode !== null ? done(null) : p.once('exit', done)))));
  await redis.stop();
  if (code !== 0) throw new Error(`the coordinator failed (exit ${code}):\n${readFileSync(join(out, 'coordinator.log'), 'utf8').slice(-3000)}`);
  const units = new JsonLines(join(out, 'work', 'reproduce.jsonl')).read() as unknown as Landed[];
  const sum = (f: (u: Landed) => number): number => units.reduce((a, u) => a + f(u), 0);
  const rows = units.map(
    (u) =>
      `| ${u.unit} | ${u.worker.split(':')[1]} | ${(u.trainSeconds + u.evalSeconds).toFixed(1)} | ${u.workerSeconds.toFixed(1)} | ${(u.workerSeconds - u.trainSeconds - u.evalSeconds).toFixed(1)} | ${u.waitedSeconds.toFixed(1)} | ${u.landedAfterSeconds.toFixed(1)} |`,
  );
  console.log(
    [
      `preset ${preset}, ${workers} worker(s) x ${threads} thread(s): ${units.length} units in ${(wall / 60).toFixed(2)} min wall (load average before: ${load})`,
      '',
      '| unit | worker pid | train + eval s | on the worker s | worker overhead s | waited in the queue s | finished to landed s |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      `| all | | ${sum((u) => u.trainSeconds + u.evalSeconds).toFixed(1)} | ${sum((u) => u.workerSeconds).toFixed(1)} | ${sum((u) => u.workerSeconds - u.trainSeconds - u.evalSeconds).toFixed(1)} | | |`,
    ].join('\n'),
  );
}

/** The preset run locally, one process: its wall time and each unit's, from one finish stamp to the next. */
async function local(cli: string, preset: string, threads: number, out: string): Promise<void> {
  const load = loadavg();
  const started = Date.now();
  const run = spawn(process.execPath, ['--no-liftoff', cli, 'reproduce', '--preset', preset, '--workers', String(threads), '--out', join(out, 'results'), '--work', join(out, 'work')], {
    stdio: ['ignore', 'ignore', openSync(join(out, 'reproduce.log'), 'w')],
  });
  const code = await new Promise<number | null>((done) => run.once('exit', done));
  const wall = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`the local reproduction failed (exit ${code}):\n${readFileSync(join(out, 'reproduce.log'), 'utf8').slice(-3000)}`);
  const units = new JsonLines(join(out, 'work', 'reproduce.jsonl')).read() as unknown as Array<{ unit: string; trainSeconds: number; evalSeconds: number; finished: string }>;
  let previous = started;
  const rows = units.map((u) => {
    const at = Date.parse(u.finished);
    const row = `| ${u.unit} | ${(u.trainSeconds + u.evalSeconds).toFixed(1)} | ${((at - previous) / 1000).toFixed(1)} |`;
    previous = at;
    return row;
  });
  console.log(
    [
      `preset ${preset} locally, ${threads} thread(s): ${units.length} units in ${(wall / 60).toFixed(2)} min wall (load average before: ${load}); the first unit's time includes loading the judges and data`,
      '',
      '| unit | train + eval s | unit wall s |',
      '| --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
