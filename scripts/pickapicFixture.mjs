// Writes test/fixtures/pickapic-duckdb.parquet: six rows in Pick-a-Pic v2's schema written by
// DuckDB (not by the kit's own Parquet writer), so the reader is tested against an independent
// implementation. DuckDB is not a dependency of the kit; install it beside the checkout first:
//
//   npm install --prefix /tmp/duck @duckdb/node-api@1.5.6-r.1
//   DUCKDB_PREFIX=/tmp/duck node scripts/pickapicFixture.mjs
//
// Images: 32x32 JPEGs made with sharp: a red square on white (the winners of the red captions)
// and a blue disc (their losers); labels cover a win of image 0, a win of image 1, a tie and an
// unlabelled row.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';

const prefix = process.env.DUCKDB_PREFIX;
if (!prefix) throw new Error('set DUCKDB_PREFIX to the folder @duckdb/node-api is installed in (see the comment at the top)');
const { DuckDBInstance } = createRequire(join(prefix, 'node_modules', 'x.js'))('@duckdb/node-api');

const svg = (shape) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="white"/>${shape}</svg>`);
const jpeg = async (shape) => (await sharp(svg(shape)).jpeg({ quality: 90 }).toBuffer()).toString('hex');
const red = await jpeg('<rect x="6" y="6" width="20" height="20" fill="#e00000"/>');
const blue = await jpeg('<circle cx="16" cy="16" r="11" fill="#0030e0"/>');

// [caption, jpg_0, jpg_1, label_0, has_label, model_0, model_1]
const rows = [
  ['red square', red, blue, 1, true, 'base-S', 'weak'],
  ['red square, emoji', blue, red, 0, true, 'weak', 'base-S'],
  ['blue disc', blue, blue, 0.5, true, 'base-S', 'base-S'],
  ['red square on white', red, blue, 0.5, false, 'base-S', 'weak'],
  ['a red square', red, blue, 1, true, 'base-L', 'base-S'],
  ['square in red', blue, red, 0, true, 'weak', 'base-L'],
];
const values = rows
  .map(([caption, a, b, label0, hasLabel, m0, m1], i) => {
    const uid = (k) => `'${String(i).padStart(4, '0')}-${k}'`;
    const best = label0 === 0 ? uid(1) : uid(0);
    return `(${[
      label0 === 0.5 && a === b ? 'false' : 'true',
      best,
      `'${caption}'`,
      `TIMESTAMP_NS '2023-05-0${1 + (i % 5)} 12:00:00.123456789'`,
      hasLabel,
      uid(0),
      `'https://example.invalid/${i}/0.jpg'`,
      uid(1),
      `'https://example.invalid/${i}/1.jpg'`,
      `from_hex('${a}')`,
      `from_hex('${b}')`,
      `${label0}::DOUBLE`,
      `${1 - label0}::DOUBLE`,
      `'${m0}'`,
      `'${m1}'`,
      `${1000 + i}::BIGINT`,
      `${7 + (i % 2)}::BIGINT`,
      '1::BIGINT',
      `${i}::BIGINT`,
    ].join(', ')})`;
  })
  .join(',\n');
const columns =
  'are_different, best_image_uid, caption, created_at, has_label, image_0_uid, image_0_url, image_1_uid, image_1_url, jpg_0, jpg_1, label_0, label_1, model_0, model_1, ranking_id, user_id, num_example_per_prompt, __index_level_0__';
const out = new URL('../test/fixtures/pickapic-duckdb.parquet', import.meta.url).pathname;
const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
await connection.run(`COPY (SELECT * FROM (VALUES ${values}) AS t(${columns})) TO '${out}' (FORMAT parquet)`);
console.log(`wrote ${out}`);
