/**
 * A reproduction preset over N queue workers on this machine: a fresh redis-server on a free
 * port, the coordinator (`dist/cli.js reproduce --queue`) and N workers (`dist/cli.js worker`,
 * T threads each) as processes, timed from the first enqueue to the report; then per unit its
 * compute (training + evaluation, as done.json records them) against its wall time on the
 * worker and on the queue, the difference being what the queue costs.
 *
 *   npm run build && node --no-liftoff --import tsx bench/scaleOut.ts --preset quick --workers 2 --threads 1 --out .scratch/scale-out/w2
 *
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
  const args = parseArgs(process.argv.slice(2), { string: ['preset', 'workers', 'threads', 'out'] });
  const preset = (args.flags['preset'] as string | undefined) ?? 'quick';
  const workers = numberFlag(args, 'workers', 2);
  const threads = numberFlag(args, 'threads', 1);
  const out = resolve((args.flags['out'] as string | undefined) ?? join('.scratch', 'scale-out', `w${workers}`));
  if (existsSync(out)) throw new Error(`${out} exists: choose a new --out (a measurement starts from nothing)`);
  mkdirSync(out, { recursive: true });
  const cli = join(__dirname, '..', 'dist', 'cli.js');
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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
