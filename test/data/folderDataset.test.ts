import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DatasetError } from '../../src/data/datasetError.js';
import { loadFolderDataset } from '../../src/data/folderDataset.js';
import { Rng } from '../../src/util/rng.js';

const R = 32;
const root = mkdtempSync(path.join(tmpdir(), 'selfdpo-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Rgb = [number, number, number];

/** A fresh dataset folder holding `files`, with `lines` as its captions.jsonl. */
function makeDir(lines: string[] | null, files: Record<string, Buffer | string> = {}): string {
  const dir = mkdtempSync(path.join(root, 'ds-'));
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  if (lines !== null) writeFileSync(path.join(dir, 'captions.jsonl'), lines.join('\n'));
  return dir;
}

const line = (file: string, caption: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ file, caption, ...extra });

/** 40x20 PNG: left half (x < 20) red, right half blue. */
async function halvesPng(): Promise<Buffer> {
  const w = 40;
  const h = 20;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw[(y * w + x) * 3 + (x < 20 ? 0 : 2)] = 255;
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/** 20x20 RGBA PNG: left half opaque green, right half fully transparent *black*. */
async function alphaPng(): Promise<Buffer> {
  const raw = Buffer.alloc(20 * 20 * 4);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 10; x++) {
      raw[(y * 20 + x) * 4 + 1] = 255;
      raw[(y * 20 + x) * 4 + 3] = 255;
    }
  }
  return sharp(raw, { raw: { width: 20, height: 20, channels: 4 } }).png().toBuffer();
}

function solid(width: number, height: number, rgb: Rgb) {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
}

// A 16-unit SVG icon, left half red, right half transparent: rasterised at 72 dpi it would be
// 16 px and its edge blurred by the upscale; rasterised at the resolution the edge is exact.
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
  '<rect x="0" y="0" width="8" height="16" fill="#ff0000"/></svg>';

function px(img: Uint8Array, x: number, y: number): Rgb {
  const o = (y * R + x) * 3;
  return [img[o] as number, img[o + 1] as number, img[o + 2] as number];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let crc = 0xffffffff;
  for (const byte of body) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0, body.length + 4);
  return out;
}

/**
 * A `side` x `side` 1-bit palette PNG, left half red and right half blue, written by hand:
 * sharp's own encoder takes over 10 s at 17000x17000, this takes about 0.1 s (every row after
 * the first is stored as "same as the row above", which deflates to almost nothing).
 */
function hugePalettePng(side: number): Buffer {
  const rowBytes = Math.ceil(side / 8) + 1; // + the filter-type byte
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 3; // colour type: palette
  const rows = Buffer.alloc(side * rowBytes);
  for (let x = Math.floor(side / 2); x < side; x++) rows[1 + (x >> 3)]! |= 0x80 >> (x & 7); // filter 0
  for (let y = 1; y < side; y++) rows[y * rowBytes] = 2; // filter "Up", zero differences
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', Buffer.from([255, 0, 0, 0, 0, 255])),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A truncated PNG: its header reads fine, its pixel data does not. */
async function truncatedPng(): Promise<Buffer> {
  const png = await solid(40, 20, [9, 9, 9]).png().toBuffer();
  return png.subarray(0, png.length - 20);
}

/** Matches a DatasetError at `file` and captions `line`, with the line named in the message. */
function datasetError(file: string, line?: number, key?: string, more?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DatasetError, `expected a DatasetError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.line, line);
    assert.ok(e.message.startsWith(file), `message should start with the file: ${e.message}`);
    if (line !== undefined) assert.match(e.message, new RegExp(`captions\\.jsonl line ${line}\\b`));
    if (key !== undefined) {
      assert.equal(e.key, key);
      assert.ok(e.message.includes(`"${key}"`), `message should name the key: ${e.message}`);
    }
    if (more !== undefined) assert.match(e.message, more);
    return true;
  };
}

describe('loadFolderDataset: good data', async () => {
  const files = {
    'halves.png': await halvesPng(),
    'photos/small.jpg': await solid(10, 10, [200, 100, 50]).jpeg({ quality: 95 }).toBuffer(),
    'alpha.png': await alphaPng(),
    'icon.svg': SVG,
    'anim.gif': await solid(12, 30, [0, 0, 255]).gif().toBuffer(),
    'tile.webp': await solid(33, 33, [0, 128, 0]).webp({ lossless: true }).toBuffer(),
  };
  const lines = [
    line('halves.png', 'red and blue', { source: 'test', tags: [1, 2] }),
    '',
    line('photos/small.jpg', '  an orange square  '),
    '   ',
    line('alpha.png', 'a green half'),
    line('icon.svg', 'a red icon'),
    line('anim.gif', 'a blue bar'),
    line('./tile.webp', 'a green tile') + '\r',
    '',
  ];
  const dir = makeDir(lines, files);

  test('loads every example in line order with ids and fixed captions', async () => {
    const { set, skipped } = await loadFolderDataset(dir);
    assert.deepEqual(skipped, []);
    assert.equal(set.resolution, R);
    assert.equal(set.size, 6);
    const ids = Array.from({ length: set.size }, (_, i) => set.id(i));
    assert.deepEqual(ids, ['halves.png', 'photos/small.jpg', 'alpha.png', 'icon.svg', 'anim.gif', './tile.webp']);
    const rng = new Rng(1);
    assert.equal(set.caption(0, rng), 'red and blue');
    assert.equal(set.caption(1, rng), 'an orange square'); // trimmed
    assert.equal(set.caption(1, new Rng(99)), 'an orange square'); // rng is ignored
    for (let i = 0; i < set.size; i++) assert.equal(set.pixels(i).length, R * R * 3);
    assert.throws(() => set.pixels(6), RangeError);
    assert.throws(() => set.id(-1), RangeError);
  });

  test('cover-resize of a 2:1 image keeps its middle', async () => {
    // 40x20 -> scale 32/20 = 1.6 -> 64x32, crop columns 16..47 = source columns 10..29.
    // Source columns 10..19 are red, 20..29 blue: the red/blue edge lands at output x = 16.
    const { set } = await loadFolderDataset(dir);
    const img = set.pixels(0);
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < R; x++) {
        if (x <= 14) assert.deepEqual(px(img, x, y), [255, 0, 0], `(${x},${y})`);
        else if (x >= 18) assert.deepEqual(px(img, x, y), [0, 0, 255], `(${x},${y})`);
        else assert.equal(px(img, x, y)[1], 0);
      }
    }
    // Half of each row is red: the crop is centred, not anchored at a side.
    let red = 0;
    for (let x = 0; x < R; x++) red += px(img, x, 5)[0];
    assert.ok(Math.abs(red - 16 * 255) <= 255, `red mass ${red}`);
  });

  test('a small JPEG is upscaled to a uniform colour', async () => {
    const { set } = await loadFolderDataset(dir);
    const img = set.pixels(1);
    for (const [x, y] of [[0, 0], [31, 31], [16, 7]] as const) {
      const [r, g, b] = px(img, x, y);
      assert.ok(Math.abs(r - 200) <= 3 && Math.abs(g - 100) <= 3 && Math.abs(b - 50) <= 3, `${[r, g, b]}`);
    }
  });

  test('transparent pixels come out white, not the black stored under them', async () => {
    const { set } = await loadFolderDataset(dir);
    const img = set.pixels(2);
    for (let y = 0; y < R; y++) {
      for (let x = 0; x <= 14; x++) assert.deepEqual(px(img, x, y), [0, 255, 0]);
      for (let x = 18; x < R; x++) assert.deepEqual(px(img, x, y), [255, 255, 255]);
    }
  });

  test('an SVG is rasterised at the resolution (a sharp edge), on white', async () => {
    const { set } = await loadFolderDataset(dir);
    const img = set.pixels(3);
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < 16; x++) assert.deepEqual(px(img, x, y), [255, 0, 0], `(${x},${y})`);
      for (let x = 16; x < R; x++) assert.deepEqual(px(img, x, y), [255, 255, 255], `(${x},${y})`);
    }
  });

  test('GIF and WebP decode too', async () => {
    const { set } = await loadFolderDataset(dir);
    assert.deepEqual(px(set.pixels(4), 3, 3), [0, 0, 255]);
    assert.deepEqual(px(set.pixels(5), 20, 20), [0, 128, 0]);
  });

  test('EXIF orientation is applied (a phone photo stored sideways)', async () => {
    // Orientation 6: rotate 90 degrees clockwise to display, so the stored left (red) half
    // becomes the top half of a 20x40 picture.
    const sideways = await sharp(await halvesPng()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const { set } = await loadFolderDataset(makeDir([line('phone.jpg', 'sideways')], { 'phone.jpg': sideways }));
    const near = (a: Rgb, b: Rgb) => a.every((v, k) => Math.abs(v - (b[k] as number)) <= 8);
    for (let x = 0; x < R; x += 5) {
      assert.ok(near(px(set.pixels(0), x, 2), [255, 0, 0]), `top ${px(set.pixels(0), x, 2)}`);
      assert.ok(near(px(set.pixels(0), x, 29), [0, 0, 255]), `bottom ${px(set.pixels(0), x, 29)}`);
    }
  });

  test('an image above sharp\'s default pixel limit loads (17000x17000 > 16383x16383)', async () => {
    const side = 17000;
    assert.ok(side * side > 0x3fff * 0x3fff);
    const png = hugePalettePng(side);
    // The file really is over sharp's default limit: without the loader's option it is refused.
    await assert.rejects(sharp(png).raw().toBuffer(), /exceeds pixel limit/);
    const started = performance.now();
    const { set } = await loadFolderDataset(makeDir([line('huge.png', 'a huge scan')], { 'huge.png': png }));
    const ms = performance.now() - started;
    assert.ok(ms < 10_000, `took ${Math.round(ms)} ms`);
    // The 531:1 reduction rings a little beside the edge at x = 16 (254 for 255 at x = 13).
    const near = (a: Rgb, b: Rgb) => a.every((v, k) => Math.abs(v - (b[k] as number)) <= 3);
    for (let y = 0; y < R; y += 3) {
      for (let x = 0; x <= 13; x++) assert.ok(near(px(set.pixels(0), x, y), [255, 0, 0]), `(${x},${y})`);
      for (let x = 18; x < R; x++) assert.ok(near(px(set.pixels(0), x, y), [0, 0, 255]), `(${x},${y})`);
    }
  });

  test('another resolution', async () => {
    const { set } = await loadFolderDataset(dir, { resolution: 8 });
    assert.equal(set.resolution, 8);
    assert.equal(set.pixels(0).length, 8 * 8 * 3);
    await assert.rejects(loadFolderDataset(dir, { resolution: 0 }), RangeError);
    await assert.rejects(loadFolderDataset(dir, { resolution: 2.5 }), RangeError);
  });

  test('two loads give identical bytes', async () => {
    const a = await loadFolderDataset(dir);
    const b = await loadFolderDataset(dir);
    assert.equal(a.set.size, b.set.size);
    for (let i = 0; i < a.set.size; i++) {
      assert.ok(Buffer.from(a.set.pixels(i)).equals(Buffer.from(b.set.pixels(i))), `example ${i}`);
    }
  });

  test('progress is reported from 0 to the total', async () => {
    const calls: Array<[number, number]> = [];
    await loadFolderDataset(dir, { onProgress: (done, total) => calls.push([done, total]) });
    assert.deepEqual(calls[0], [0, 6]);
    assert.deepEqual(calls.at(-1), [6, 6]);
    assert.deepEqual(
      calls.map((c) => c[0]),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  test('order is kept when many images decode concurrently', async () => {
    // More images than decode slots, the big ones first, so decodes finish out of order.
    const many: Record<string, Buffer> = {};
    const manyLines: string[] = [];
    for (let i = 0; i < 20; i++) {
      const size = i < 10 ? 600 - i * 40 : 4 + i;
      many[`img${i}.png`] = await solid(size, size, [i * 10, 255 - i * 10, i]).png().toBuffer();
      manyLines.push(line(`img${i}.png`, `colour ${i}`));
    }
    const { set } = await loadFolderDataset(makeDir(manyLines, many));
    assert.equal(set.size, 20);
    for (let i = 0; i < 20; i++) {
      assert.equal(set.id(i), `img${i}.png`);
      assert.equal(set.caption(i, new Rng(0)), `colour ${i}`);
      assert.deepEqual(px(set.pixels(i), 9, 9), [i * 10, 255 - i * 10, i]);
    }
  });
});

describe('loadFolderDataset: bad data', async () => {
  const good = await solid(8, 8, [1, 2, 3]).png().toBuffer();
  const goodFiles = { 'a.png': good, 'b.png': good };
  const twoGood = [line('a.png', 'one'), line('b.png', 'two')];
  const captionsOf = (dir: string) => path.join(dir, 'captions.jsonl');

  test('missing folder', async () => {
    const dir = path.join(root, 'no-such-folder');
    await assert.rejects(loadFolderDataset(dir), datasetError(dir, undefined, undefined, /not found/));
  });

  test('a file instead of a folder', async () => {
    const dir = makeDir(twoGood, goodFiles);
    const file = path.join(dir, 'a.png');
    await assert.rejects(loadFolderDataset(file), datasetError(file, undefined, undefined, /not a folder/));
  });

  test('missing captions.jsonl', async () => {
    const dir = makeDir(null, goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), undefined, undefined, /not found/));
  });

  test('malformed JSON line', async () => {
    const dir = makeDir([...twoGood, '{"file": "a.png", "caption": "x"'], goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, undefined, /not valid JSON/));
  });

  test('line numbers count blank lines', async () => {
    const dir = makeDir([line('a.png', 'one'), '', '  ', 'nope'], goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 4));
  });

  for (const [what, text] of [
    ['an array', '["a.png", "x"]'],
    ['a string', '"a.png"'],
    ['null', 'null'],
    ['a number', '3'],
  ] as const) {
    test(`a line that is ${what}, not an object`, async () => {
      const dir = makeDir([...twoGood, text], goodFiles);
      await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, undefined, /must be a JSON object/));
    });
  }

  for (const key of ['file', 'caption'] as const) {
    test(`missing "${key}"`, async () => {
      const obj: Record<string, string> = { file: 'a.png', caption: 'x' };
      delete obj[key];
      const dir = makeDir([...twoGood, JSON.stringify(obj)], goodFiles);
      await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, key, /is missing/));
    });

    test(`non-string "${key}"`, async () => {
      const obj: Record<string, unknown> = { file: 'a.png', caption: 'x', [key]: 42 };
      const dir = makeDir([...twoGood, JSON.stringify(obj)], goodFiles);
      await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, key, /must be a string, got number/));
    });
  }

  test('empty caption', async () => {
    const dir = makeDir([...twoGood, line('a.png', '')], goodFiles);
    await assert.rejects(loadFolderDataset(dir), (e) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.message, `${captionsOf(dir)} line 3: "caption" is empty`);
      return datasetError(captionsOf(dir), 3, 'caption')(e);
    });
  });

  test('whitespace-only caption', async () => {
    const dir = makeDir([...twoGood, line('a.png', ' \t\n ')], goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, 'caption', /is empty/));
  });

  for (const escape of ['../outside.png', 'sub/../../outside.png', '..']) {
    test(`a path escaping the folder: ${escape}`, async () => {
      const dir = makeDir([...twoGood, line(escape, 'x')], goodFiles);
      writeFileSync(path.join(path.dirname(dir), 'outside.png'), good); // it exists, still refused
      await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, 'file', /escapes the dataset folder/));
    });
  }

  test('an absolute path', async () => {
    const dir = makeDir([...twoGood, line(path.join(root, 'a.png'), 'x')], goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), 3, 'file', /relative/));
  });

  test('a name that only starts with dots is inside', async () => {
    const dir = makeDir([line('..a.png', 'dots')], { '..a.png': good });
    const { set } = await loadFolderDataset(dir);
    assert.equal(set.id(0), '..a.png');
  });

  test('image file missing', async () => {
    const dir = makeDir([...twoGood, line('img/gone.png', 'x')], goodFiles);
    const image = path.join(dir, 'img/gone.png');
    await assert.rejects(loadFolderDataset(dir), datasetError(image, 3, undefined, /not found/));
  });

  test('image path is a folder', async () => {
    const dir = makeDir([...twoGood, line('img', 'x')], { ...goodFiles, 'img/c.png': good });
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'img'), 3, undefined, /not a file/));
  });

  test('corrupt image: truncated PNG', async () => {
    const dir = makeDir([...twoGood, line('broken.png', 'x')], { ...goodFiles, 'broken.png': await truncatedPng() });
    const image = path.join(dir, 'broken.png');
    await assert.rejects(loadFolderDataset(dir), (e) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.listedIn, captionsOf(dir));
      return datasetError(image, 3, undefined, /cannot decode image/)(e);
    });
  });

  test('an SVG that refers to a file outside itself is refused, naming the file, the line and the reference', async () => {
    const evil = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="16" height="16"><image xlink:href="file:///etc/passwd" width="16" height="16"/></svg>';
    const dir = makeDir([...twoGood, line('evil.svg', 'x')], { ...goodFiles, 'evil.svg': evil });
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'evil.svg'), 3, undefined, /refused SVG: it refers to an outside resource \(file:\/\/\/etc\/passwd\)/));
  });

  test('corrupt image: not an image at all', async () => {
    const dir = makeDir([...twoGood, line('notes.png', 'x')], { ...goodFiles, 'notes.png': 'just some text\n' });
    const image = path.join(dir, 'notes.png');
    await assert.rejects(loadFolderDataset(dir), datasetError(image, 3, undefined, /unsupported image format/));
  });

  test('corrupt image: empty file', async () => {
    const dir = makeDir([...twoGood, line('empty.jpg', 'x')], { ...goodFiles, 'empty.jpg': '' });
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'empty.jpg'), 3, undefined, /cannot decode/));
  });

  test('the lowest bad line is reported whatever order decodes finish in', async () => {
    const files: Record<string, Buffer> = { ...goodFiles, 'bad.png': await truncatedPng() };
    const lines = [line('a.png', '1')];
    for (let i = 0; i < 12; i++) lines.push(line(i === 3 || i === 9 ? 'bad.png' : 'b.png', `x${i}`));
    const dir = makeDir(lines, files);
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'bad.png'), 5));
  });

  test('captions problems are reported before any image is decoded', async () => {
    const dir = makeDir([line('a.png', '1'), line('bad.png', '2'), line('b.png', '')], {
      ...goodFiles,
      'bad.png': await truncatedPng(),
    });
    let progressed = false;
    await assert.rejects(
      loadFolderDataset(dir, { onProgress: () => (progressed = true) }),
      datasetError(captionsOf(dir), 3, 'caption'),
    );
    assert.equal(progressed, false);
  });

  test('zero usable examples: an empty captions file', async () => {
    const dir = makeDir(['', '  '], goodFiles);
    await assert.rejects(loadFolderDataset(dir), datasetError(captionsOf(dir), undefined, undefined, /no usable examples/));
  });

  test('zero usable examples: all skipped', async () => {
    const dir = makeDir([line('gone.png', 'x'), 'oops'], goodFiles);
    await assert.rejects(
      loadFolderDataset(dir, { skipBad: true }),
      datasetError(
        captionsOf(dir),
        undefined,
        undefined,
        /no usable examples \(2 skipped; the first, line 1: .*gone\.png: image file not found\)/,
      ),
    );
  });

  test('skipBad: bad items are reported, the good ones load in order', async () => {
    const red = await solid(8, 8, [255, 0, 0]).png().toBuffer();
    const green = await solid(8, 8, [0, 255, 0]).jpeg({ quality: 100 }).toBuffer();
    const blue = await solid(8, 8, [0, 0, 255]).png().toBuffer();
    const files = { 'red.png': red, 'green.jpg': green, 'blue.png': blue, 'broken.png': await truncatedPng() };
    const dir = makeDir(
      [
        line('red.png', 'red'), // 1
        '{not json', // 2
        line('green.jpg', 'green'), // 3
        line('gone.png', 'missing'), // 4
        '', // 5
        line('broken.png', 'corrupt'), // 6
        line('blue.png', '   '), // 7
        line('../red.png', 'escape'), // 8
        line('blue.png', 'blue'), // 9
      ],
      files,
    );
    const { set, skipped } = await loadFolderDataset(dir, { skipBad: true });
    assert.equal(skipped.length, 5);
    assert.deepEqual(
      skipped.map((s) => [s.line, s.file]),
      [
        [2, captionsOf(dir)],
        [4, path.join(dir, 'gone.png')],
        [6, path.join(dir, 'broken.png')],
        [7, captionsOf(dir)],
        [8, captionsOf(dir)],
      ],
    );
    assert.match(skipped[1]?.reason ?? '', /not found/);
    assert.match(skipped[2]?.reason ?? '', /cannot decode image/);
    assert.equal(skipped[3]?.reason, '"caption" is empty');

    assert.equal(set.size, 3);
    assert.deepEqual([0, 1, 2].map((i) => set.id(i)), ['red.png', 'green.jpg', 'blue.png']);
    assert.deepEqual([0, 1, 2].map((i) => set.caption(i, new Rng(0))), ['red', 'green', 'blue']);
    assert.deepEqual(px(set.pixels(0), 31, 31), [255, 0, 0]);
    const [r, g, b] = px(set.pixels(1), 0, 0);
    assert.ok(r <= 3 && g >= 252 && b <= 3, `${[r, g, b]}`);
    assert.deepEqual(px(set.pixels(2), 0, 0), [0, 0, 255]);
  });
});

describe('loadFolderDataset: symlinks', async () => {
  const red = await solid(8, 8, [255, 0, 0]).png().toBuffer();
  const blue = await solid(8, 8, [0, 0, 255]).png().toBuffer();
  const captionsOf = (dir: string) => path.join(dir, 'captions.jsonl');
  // A file and a folder outside every dataset folder, that links may point to.
  const outside = mkdtempSync(path.join(root, 'outside-'));
  writeFileSync(path.join(outside, 'secret.png'), blue);

  test('an image that is a symlink to a file outside the folder is refused', async () => {
    const dir = makeDir([line('a.png', 'one'), line('b.png', 'two')], { 'a.png': red });
    symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'b.png'));
    const image = path.join(dir, 'b.png');
    await assert.rejects(loadFolderDataset(dir), (e) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.listedIn, captionsOf(dir));
      assert.ok(e.message.includes(realpathSync(path.join(outside, 'secret.png'))), e.message);
      return datasetError(image, 2, undefined, /symlink .*outside the dataset folder/)(e);
    });
  });

  test('a relative symlink out of the folder, and a symlinked subfolder outside, are refused', async () => {
    const dir = makeDir([line('a.png', 'one'), line('rel.png', 'two'), line('sub/secret.png', 'three')], {
      'a.png': red,
    });
    symlinkSync(path.relative(dir, path.join(outside, 'secret.png')), path.join(dir, 'rel.png'));
    symlinkSync(outside, path.join(dir, 'sub'));
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'rel.png'), 2, undefined, /outside/));
    const { skipped } = await loadFolderDataset(dir, { skipBad: true });
    assert.deepEqual(
      skipped.map((s) => [s.line, s.file]),
      [
        [2, path.join(dir, 'rel.png')],
        [3, path.join(dir, 'sub/secret.png')],
      ],
    );
  });

  test('skipBad: an escaping symlink is skipped and named, the rest loads', async () => {
    const dir = makeDir([line('a.png', 'one'), line('b.png', 'two'), line('c.png', 'three')], {
      'a.png': red,
      'c.png': blue,
    });
    symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'b.png'));
    const { set, skipped } = await loadFolderDataset(dir, { skipBad: true });
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.line, 2);
    assert.equal(skipped[0]?.file, path.join(dir, 'b.png'));
    assert.match(skipped[0]?.reason ?? '', /outside the dataset folder/);
    assert.deepEqual([0, 1].map((i) => set.id(i)), ['a.png', 'c.png']);
    assert.deepEqual(px(set.pixels(1), 0, 0), [0, 0, 255]);
  });

  test('a dangling symlink is a missing image', async () => {
    const dir = makeDir([line('a.png', 'one'), line('gone.png', 'two')], { 'a.png': red });
    symlinkSync(path.join(outside, 'no-such.png'), path.join(dir, 'gone.png'));
    await assert.rejects(loadFolderDataset(dir), datasetError(path.join(dir, 'gone.png'), 2, undefined, /not found/));
  });

  test('symlinks that stay inside the folder load', async () => {
    const dir = makeDir(
      [line('alias.png', 'file link'), line('linked/blue.png', 'folder link'), line('roundabout.png', 'out and back')],
      { 'real/red.png': red, 'real/blue.png': blue },
    );
    symlinkSync(path.join('real', 'red.png'), path.join(dir, 'alias.png')); // relative target
    symlinkSync(path.join(dir, 'real'), path.join(dir, 'linked')); // absolute target, a folder
    // Leaves the folder by its text, but lands back inside it.
    symlinkSync(path.join('..', path.basename(dir), 'real', 'blue.png'), path.join(dir, 'roundabout.png'));
    const { set, skipped } = await loadFolderDataset(dir);
    assert.deepEqual(skipped, []);
    assert.deepEqual([0, 1, 2].map((i) => set.id(i)), ['alias.png', 'linked/blue.png', 'roundabout.png']);
    assert.deepEqual(px(set.pixels(0), 0, 0), [255, 0, 0]);
    assert.deepEqual(px(set.pixels(1), 0, 0), [0, 0, 255]);
    assert.deepEqual(px(set.pixels(2), 0, 0), [0, 0, 255]);
  });

  test('a dataset folder given through a symlink loads, and errors name the path as given', async () => {
    const dir = makeDir([line('a.png', 'one'), line('b.png', 'two')], { 'a.png': red, 'sub/b.png': blue });
    symlinkSync(path.join('sub', 'b.png'), path.join(dir, 'b.png'));
    const link = path.join(root, `link-${path.basename(dir)}`);
    symlinkSync(dir, link);
    const { set, skipped } = await loadFolderDataset(link);
    assert.deepEqual(skipped, []);
    assert.equal(set.size, 2);
    assert.deepEqual(px(set.pixels(0), 0, 0), [255, 0, 0]);
    assert.deepEqual(px(set.pixels(1), 0, 0), [0, 0, 255]);

    // An escaping link is still refused when the folder itself is reached through a link.
    writeFileSync(captionsOf(dir), [line('a.png', 'one'), line('c.png', 'two')].join('\n'));
    symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'c.png'));
    await assert.rejects(loadFolderDataset(link), datasetError(path.join(link, 'c.png'), 2, undefined, /outside/));
  });
});
