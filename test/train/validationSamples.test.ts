import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { initBackend } from '../../src/backend.js';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';
import { samplesFile, validationPrompts, VALIDATION_SEEDS, writeValidationSamples } from '../../src/train/validationSamples.js';
import { DEFAULT_SAMPLING } from '../../src/model/generate.js';
import { sampleBytes } from '../../src/parallel/sampleBytes.js';
import { loadModel } from '../../src/model/modelFile.js';
import { smokeBase } from './trainHelpers.js';

const root = mkdtempSync(join(tmpdir(), 'selfdpo-samples-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('validation prompts are the first distinct captions of the held-out set, fixed by image index', () => {
  const captions = ['a cat', 'a cat', 'a dog', 'a red heart', 'a sun', 'a moon'];
  const set = { size: captions.length, caption: (i: number) => captions[i] as string } as unknown as ImageTextSet;
  assert.deepEqual(validationPrompts(set), ['a cat', 'a dog', 'a red heart', 'a sun']);
  assert.deepEqual(validationPrompts(set, 2), ['a cat', 'a dog']);
});

test("a step's samples are one PNG: prompts in rows, seeds in columns, each cell the sampler's image at 3x", async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const { model, schedule } = loadModel(await smokeBase());
  const prompts = ['grinning face', 'red heart'];
  const file = await writeValidationSamples(model, schedule, prompts, root, 50);
  assert.equal(file, samplesFile(root, 50));
  assert.ok(file.endsWith(join('samples', 'step-000050.png')));
  const R = model.config.resolution;
  const { data, info } = await sharp(readFileSync(file)).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [VALIDATION_SEEDS.length * R * 3, prompts.length * R * 3, 3]);
  // The cell of prompt 1, seed 1 is that image drawn alone, each pixel repeated 3x3.
  const [alone] = await sampleBytes(model, schedule, { kind: 'sample', captions: ['red heart'], seeds: [1], options: DEFAULT_SAMPLING, chunk: 1 });
  for (const [y, x] of [
    [0, 0],
    [R - 1, R - 1],
    [3, 5],
  ] as const) {
    for (const [dy, dx] of [
      [0, 0],
      [2, 2],
    ] as const) {
      const at = ((R * 3 + y * 3 + dy) * info.width + (R * 3 + x * 3 + dx)) * 3;
      assert.deepEqual([...data.subarray(at, at + 3)], [...(alone as Uint8Array).subarray((y * R + x) * 3, (y * R + x) * 3 + 3)], `pixel ${y},${x}`);
    }
  }
  const meta = JSON.parse(readFileSync(join(root, 'samples', 'prompts.json'), 'utf8')) as { prompts: string[]; seeds: number[] };
  assert.deepEqual(meta.prompts, prompts);
  assert.deepEqual(meta.seeds, [...VALIDATION_SEEDS]);
  assert.ok(!existsSync(`${file}.tmp`));
  model.params.dispose();
});
