import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFloat16, encodeFloat16, fromFloat16Bits, toFloat16Bits } from '../../src/model/float16.js';

test('toFloat16Bits gives the IEEE half-precision patterns worked out by hand', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00], // exponent 15, mantissa 0
    [-2, 0xc000],
    [0.1, 0x2e66], // 1.6 x 2^-4: mantissa 0.6 x 1024 = 614.4 -> 614 = 0x266
    [1 / 3, 0x3555], // 1.333 x 2^-2: 0.333 x 1024 = 341.3 -> 341 = 0x155
    [65504, 0x7bff], // the largest finite half
    [65519, 0x7bff], // below the midpoint to 65536
    [65520, 0x7c00], // the midpoint rounds to even: infinity
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1 + 2^-10: ties to even
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 1 + 2^-10 and 1 + 2^-9: ties to even
    [2 ** -14, 0x0400], // the smallest normal
    [2 ** -24, 0x0001], // the smallest subnormal
    [3 * 2 ** -26, 0x0001], // 0.75 of it rounds up
    [2 ** -25, 0x0000], // half of it ties to even (0)
    [1e-8, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
  ];
  for (const [x, bits] of cases) assert.equal(toFloat16Bits(x), bits, `${x}: 0x${toFloat16Bits(x).toString(16)}, want 0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
});

test('fromFloat16Bits inverts it exactly, and a round trip is within half a unit in the last place', () => {
  assert.equal(fromFloat16Bits(0x3c00), 1);
  assert.equal(fromFloat16Bits(0x0001), 2 ** -24);
  assert.equal(fromFloat16Bits(0x7bff), 65504);
  assert.equal(fromFloat16Bits(0xfc00), -Infinity);
  for (let h = 0; h < 0x7c00; h++) assert.equal(toFloat16Bits(fromFloat16Bits(h)), h, `pattern 0x${h.toString(16)}`);
  const values = new Float32Array(Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 4));
  const back = decodeFloat16(encodeFloat16(values));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    assert.ok(Math.abs((back[i] as number) - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back[i]}`);
  }
});
