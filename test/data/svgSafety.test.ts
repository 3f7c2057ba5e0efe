import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeSvg, unsafeSvgReason } from '../../src/data/svgSafety.js';

const svg = (body: string): Uint8Array => Buffer.from(`<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">${body}</svg>`);

test('SVGs that refer only to themselves or inline data pass', () => {
  assert.equal(unsafeSvgReason(svg('<rect width="8" height="8" fill="url(#g)"/><use href="#a"/>')), undefined);
  assert.equal(unsafeSvgReason(svg('<image href="data:image/png;base64,AAAA"/>')), undefined);
  assert.equal(unsafeSvgReason(svg('<rect style="fill:url( \'#g\' )"/>')), undefined);
});

test('external references and entities are refused, naming what they refer to', () => {
  assert.match(unsafeSvgReason(svg('<image xlink:href="file:///etc/passwd"/>')) ?? '', /outside resource \(file:\/\/\/etc\/passwd\)/);
  assert.match(unsafeSvgReason(svg('<image href="../secret.png"/>')) ?? '', /\(\.\.\/secret\.png\)/);
  assert.match(unsafeSvgReason(svg("<rect style=\"fill:url('http://example.com/x.svg#p')\"/>")) ?? '', /http:\/\/example\.com/);
  assert.match(unsafeSvgReason(Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>')) ?? '', /entities/);
});

test('only SVGs are looked at: PNG bytes and text are not SVG', () => {
  assert.equal(looksLikeSvg(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])), false);
  assert.equal(unsafeSvgReason(Buffer.from('href="file:///etc/passwd" but not an svg')), undefined);
  assert.equal(looksLikeSvg(Buffer.from('  \n<svg width="1"></svg>')), true);
});
