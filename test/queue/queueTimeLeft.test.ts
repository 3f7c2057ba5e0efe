import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeLeft, type QueueJobOf } from '../../src/queue/queueStatus.js';

/** A job as the status reads it: its kind and its unit's (or tuning run's) name. */
const job = (kind: 'repro-unit' | 'tune-run', name: string): QueueJobOf => ({ data: kind === 'repro-unit' ? { kind, unit: name } : { kind, name } }) as unknown as QueueJobOf;

test("the queue's time left prices a reproduction's units by base and method over the workers, and tuning runs at their mean", () => {
  const times = new Map([
    ['sft-s1', 100],
    ['dpo-s1', 300],
  ]);
  // dpo-s2 at Diffusion-DPO's 300 s, sft-s2 at SFT's 100 s: 400 s over 2 workers, 200 s; base-L untimed.
  const units = ['dpo-s2', 'sft-s2', 'base-L/sft-s1'].map((u) => job('repro-unit', u));
  assert.equal(timeLeft(units, times, 2), 'about 3m20s left and 1 base-L unit not timed yet');
  // Tuning runs: the mean of the runs done (200 s) times the 3 left, over 2 workers.
  const runs = ['a', 'b', 'c'].map((n) => job('tune-run', n));
  assert.equal(
    timeLeft(
      runs,
      new Map([
        ['x', 100],
        ['y', 300],
      ]),
      2,
    ),
    'about 5m00s left (3m20s per run)',
  );
});
