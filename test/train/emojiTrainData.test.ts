import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { throughPickJpeg } from '../../src/data/pickJpeg.js';
import { emojiTrainData, PICK_VALIDATION } from '../../src/train/emojiTrainData.js';
import { LABELLED_LOSERS } from '../../src/train/pairProbe.js';
import { postTrain } from '../../src/train/postTrain.js';
import { methodConfig } from '../../src/train/postTrainConfig.js';
import { Rng } from '../../src/util/rng.js';
import { handMadeBuild, type HandRow } from '../pick/pickHelpers.js';
import { fakeImageTextSet } from './fakeImageTextSet.js';
import { smokeBase } from './trainHelpers.js';

/** Eight flat squares; image k of the hand-made rows below. */
const squares = fakeImageTextSet(16);
const image = (k: number): Uint8Array => squares.pixels(k);
const row = (caption: string, a: number, b: number, label0: HandRow['label0'], unlabelled = false): HandRow => ({ caption, images: [image(a), image(b)], label0, unlabelled });

/** Train: two image-0 wins, one image-1 win, a tie and an unlabelled row; validation: a win each way and a tie. */
const ROWS = {
  train: [row('red one', 0, 1, 1), row('green two', 2, 3, 0), row('blue tie', 4, 5, 0.5), row('yellow unlabelled', 6, 7, 1, true), row('red five', 8, 9, 1)],
  validation: [row('green val', 10, 11, 0), row('blue val tie', 12, 13, 0.5), row('yellow val', 14, 15, 1)],
};

test('an Emoji-Pick build trains Diffusion-DPO on its untied train pairs and SFT on their winners, and probes Diffusion-DPO on its validation pairs', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const data = EmojiT2I.open((await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() })).dir);
  const root = mkdtempSync(join(tmpdir(), 'pick-train-'));
  const build = join(root, 'emoji-pick');
  await handMadeBuild(build, ROWS);
  const base = await smokeBase();
  // What a trainer decodes: each image through the shards' JPEG.
  const stored = async (k: number): Promise<Uint8Array> => throughPickJpeg(image(k), 32, 95);
  const config = (method: string): ReturnType<typeof methodConfig> =>
    methodConfig(method, {
      base,
      data: { view: 'pairs', pairs: build },
      train: { steps: 1, batchSize: 2, microBatch: 2 },
      log: { every: 1, checkpointEvery: 1, evalEvery: 1, evalPairs: 4, sampleEvery: 0 },
    });

  // Diffusion-DPO: the train split's labelled, untied rows; the winner by the label, the loser the other image.
  const dpo = await emojiTrainData(data, config('dpo'), 32);
  assert.deepEqual(
    dpo.pairs?.records.map((r) => r.prompt),
    ['red one', 'green two', 'red five'],
  );
  const want: Array<[number, number]> = [
    [0, 1],
    [3, 2],
    [8, 9],
  ];
  for (const [i, [w, l]] of want.entries()) {
    assert.deepEqual(dpo.winners.pixels(i), await stored(w), `pair ${i}'s winner`);
    assert.deepEqual(dpo.pairs?.loser(i), await stored(l), `pair ${i}'s loser`);
    assert.match(dpo.pairs?.records[i]?.winner ?? '', /[/\\]train[/\\]train-00000-of-00001\.parquet:\d\/jpg_[01]$/, 'read from the train split only');
  }
  assert.deepEqual(dpo.source['rows'], { rows: 5, ties: 1, unlabelled: 1 });
  // Its probe's pairs: the validation split's untied rows, with their labelled losers.
  assert.equal(dpo.heldout.name, PICK_VALIDATION);
  assert.deepEqual(
    dpo.heldout.pairs?.records.map((r) => r.prompt),
    ['green val', 'yellow val'],
  );
  assert.deepEqual(dpo.heldout.set.pixels(0), await stored(11));
  assert.deepEqual(dpo.heldout.pairs?.loser(0), await stored(10));

  // SFT (and Self-DPO): the same winners and captions, without the losers.
  const sft = await emojiTrainData(data, config('sft'), 32);
  assert.equal(sft.pairs, undefined);
  assert.equal(sft.winners.size, 3);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(sft.winners.pixels(i), dpo.winners.pixels(i));
    assert.equal(sft.winners.caption(i, new Rng(i)), dpo.winners.caption(i, new Rng(i)));
  }
  assert.equal(sft.heldout.name, PICK_VALIDATION);

  // The probes a run writes: Diffusion-DPO on the labelled validation pairs, Self-DPO on the validation winners with its own losers.
  const probeOf = async (method: string): Promise<Array<{ set: string; downgrade: string }>> => {
    const c = config(method);
    const runDir = join(root, method);
    await postTrain(c, await emojiTrainData(data, c, 32), runDir, { quiet: true });
    return readFileSync(join(runDir, 'heldout.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { set: string; downgrade: string });
  };
  assert.deepEqual(
    (await probeOf('dpo')).map((p) => [p.set, p.downgrade]),
    [
      [PICK_VALIDATION, LABELLED_LOSERS],
      [PICK_VALIDATION, LABELLED_LOSERS],
    ],
  );
  assert.deepEqual(
    (await probeOf('self-dpo-blur')).map((p) => [p.set, p.downgrade]),
    [
      [PICK_VALIDATION, 'blur'],
      [PICK_VALIDATION, 'blur'],
    ],
  );

  // An unfinished build is refused, naming the file and the command that finishes it.
  const record = JSON.parse(readFileSync(join(build, 'build.json'), 'utf8')) as { complete: boolean };
  writeFileSync(join(build, 'build.json'), JSON.stringify({ ...record, complete: false }));
  await assert.rejects(emojiTrainData(data, config('sft'), 32), /emoji-pick[/\\]build\.json: the build is not complete \(2 shards made\); finish it with npm run pick/);
  rmSync(root, { recursive: true, force: true });
});
