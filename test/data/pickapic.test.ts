import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import sharp from 'sharp';
import { PICKAPIC_COLUMNS, readPickPairs, writePickShard, type PickRow } from '../../src/data/pickapic.js';
import { loadPickPairs, loadPreferencePairs } from '../../src/data/preferencePairs.js';

/** Six rows written by DuckDB (scripts/pickapicFixture.mjs): wins of image 0 and 1, a tie, an unlabelled row. */
const FIXTURE = join(__dirname, '..', 'fixtures', 'pickapic-duckdb.parquet');

const schemaOf = (file: string): SchemaElement[] => {
  const b = readFileSync(file);
  return parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).schema.slice(1);
};

/** The mean of each channel of RGB bytes. */
const meanRgb = (rgb: Uint8Array): number[] => [0, 1, 2].map((c) => rgb.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (rgb.length / 3));

const png = async (r: number, g: number, b: number): Promise<Uint8Array> => new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } }).png().toBuffer());

async function row(i: number, changes: Partial<PickRow> = {}): Promise<PickRow> {
  return {
    are_different: true,
    best_image_uid: `${i}-0`,
    caption: `prompt ${i}`,
    created_at: 1_683_000_000_000_000_000n + BigInt(i),
    has_label: true,
    image_0_uid: `${i}-0`,
    image_0_url: '',
    image_1_uid: `${i}-1`,
    image_1_url: '',
    jpg_0: await png(250, 10, 10),
    jpg_1: await png(10, 10, 250),
    label_0: 1,
    label_1: 0,
    model_0: 'strong',
    model_1: 'weak',
    ranking_id: BigInt(i),
    user_id: 0n,
    num_example_per_prompt: 1n,
    __index_level_0__: BigInt(i),
    ...changes,
  };
}

test("the DuckDB fixture reads as Pick-a-Pic v2: ties and unlabelled rows are left out, the label picks the winner's column", async () => {
  const read = await readPickPairs(FIXTURE);
  assert.equal(read.rows, 6);
  assert.equal(read.ties, 1);
  assert.equal(read.unlabelled, 1);
  assert.deepEqual(
    read.pairs.map((p) => [p.row, p.caption, p.winner.column, p.winner.model, p.loser.model]),
    [
      [0, 'red square', 'jpg_0', 'base-S', 'weak'],
      [1, 'red square, emoji', 'jpg_1', 'base-S', 'weak'],
      [4, 'a red square', 'jpg_0', 'base-L', 'base-S'],
      [5, 'square in red', 'jpg_1', 'base-L', 'weak'],
    ],
  );
  // Every winner is the red square, every loser the blue disc (the fixture's JPEGs, decoded).
  const pairs = await loadPreferencePairs(FIXTURE, 32);
  assert.equal(pairs.winners.size, 4);
  for (let i = 0; i < 4; i++) {
    const [wr, , wb] = meanRgb(pairs.winners.pixels(i));
    const [lr, , lb] = meanRgb(pairs.loser(i));
    assert.ok((wr as number) > (wb as number) + 60 && (lb as number) > (lr as number) + 60, `pair ${i}: winner ${wr}/${wb}, loser ${lr}/${lb}`);
    assert.equal(pairs.records[i]?.concept, pairs.records[i]?.prompt);
  }
});

test("the kit's shards have DuckDB's column names, order and types for Pick-a-Pic v2, round-trip, and are byte-identical when rewritten", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pick-'));
  const rows = [await row(0), await row(1, { label_0: 0, label_1: 1, best_image_uid: '1-1' }), await row(2, { label_0: 0.5, label_1: 0.5 })];
  writePickShard(join(dir, 'a.parquet'), rows);
  writePickShard(join(dir, 'b.parquet'), rows);
  assert.deepEqual(readFileSync(join(dir, 'a.parquet')), readFileSync(join(dir, 'b.parquet')));
  const shape = (s: SchemaElement): unknown => [s.name, s.type, s.converted_type === 'INT_64' ? undefined : s.converted_type, s.logical_type?.type === 'TIMESTAMP' ? s.logical_type : undefined];
  assert.deepEqual(schemaOf(join(dir, 'a.parquet')).map(shape), schemaOf(FIXTURE).map(shape));
  assert.deepEqual(
    schemaOf(FIXTURE).map((s) => s.name),
    PICKAPIC_COLUMNS,
  );
  const read = await readPickPairs(join(dir, 'a.parquet'));
  assert.deepEqual(
    read.pairs.map((p) => [p.caption, p.winner.column, p.winner.model]),
    [
      ['prompt 0', 'jpg_0', 'strong'],
      ['prompt 1', 'jpg_1', 'weak'],
    ],
  );
  assert.equal(read.ties, 1);
  assert.deepEqual(read.pairs[0]?.winner.bytes, rows[0]?.jpg_0);
  // A folder reads its shards in name order.
  assert.equal((await readPickPairs(dir)).pairs.length, 4);
});

test('bad pair files fail with the file, row and column named, and nothing is half-read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pick-bad-'));
  const write = (name: string, columns: Array<{ name: string; data: unknown[]; type?: 'STRING' | 'DOUBLE' | 'BYTE_ARRAY' }>): string => {
    const file = join(dir, name);
    writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData: columns as never })));
    return file;
  };
  const image = await png(1, 2, 3);
  const good = { caption: { name: 'caption', data: ['x'], type: 'STRING' as const }, jpg_0: { name: 'jpg_0', data: [image] }, jpg_1: { name: 'jpg_1', data: [image] } };
  const noLabel1 = write('no-label1.parquet', [good.caption, good.jpg_0, good.jpg_1, { name: 'label_0', data: [1], type: 'DOUBLE' }]);
  await assert.rejects(readPickPairs(noLabel1), /no-label1\.parquet: column label_1 is missing/);
  const textLabel = write('text-label.parquet', [good.caption, good.jpg_0, good.jpg_1, { name: 'label_0', data: ['1'], type: 'STRING' }, { name: 'label_1', data: [0], type: 'DOUBLE' }]);
  await assert.rejects(readPickPairs(textLabel), /text-label\.parquet: column label_0 has type BYTE_ARRAY; expected a number/);

  const shard = async (name: string, changes: Partial<PickRow>): Promise<string> => {
    const file = join(dir, name);
    writePickShard(file, [await row(0), await row(1, changes)]);
    return file;
  };
  await assert.rejects(readPickPairs(await shard('third.parquet', { label_0: 0.3, label_1: 0.7 })), /third\.parquet: row 1, column label_0: label 0\.3 is not one of 0, 0\.5, 1/);
  await assert.rejects(readPickPairs(await shard('sum.parquet', { label_0: 1, label_1: 1 })), /sum\.parquet: row 1, column label_1: labels 1 and 1 do not sum to 1/);
  await assert.rejects(readPickPairs(await shard('empty.parquet', { jpg_1: new Uint8Array(0) })), /empty\.parquet: row 1, column jpg_1: expected image bytes/);
  await assert.rejects(loadPreferencePairs(await shard('garbled.parquet', { jpg_1: Uint8Array.from([0xff, 0xd8, 1, 2, 3]) }), 32), /garbled\.parquet: row 1, column jpg_1: not a decodable image/);
  writePickShard(join(dir, 'ties.parquet'), [await row(0, { label_0: 0.5, label_1: 0.5 }), await row(1, { has_label: false })]);
  await assert.rejects(loadPreferencePairs(join(dir, 'ties.parquet'), 32), /ties\.parquet: no preference pairs \(2 rows: 1 ties, 1 unlabelled\)/);
  writeFileSync(join(dir, 'not.parquet'), 'hello');
  await assert.rejects(readPickPairs(join(dir, 'not.parquet')), /not\.parquet: not a Parquet file/);
  await assert.rejects(readPickPairs(join(dir, 'missing.parquet')), /missing\.parquet: cannot read the preference pairs/);
});

test('a pair set decoded once is shared while its files are unchanged, and read afresh when one is rewritten', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pick-cache-')), 'a.parquet');
  writePickShard(file, [await row(0), await row(1)]);
  const first = await loadPickPairs(file, 8);
  assert.equal(await loadPickPairs(file, 8), first);
  assert.notEqual(await loadPickPairs(file, 4), first, 'another resolution is another set');
  writePickShard(file, [await row(0, { label_0: 0, label_1: 1 }), await row(1), await row(2)]);
  const rewritten = await loadPickPairs(file, 8);
  assert.equal(rewritten.records.length, 3);
  // Row 0's label now names jpg_1, the blue image, as the winner.
  assert.deepEqual(meanRgb(rewritten.winners.pixels(0)).map(Math.round), [10, 10, 250]);
});
