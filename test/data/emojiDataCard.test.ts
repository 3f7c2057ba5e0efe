import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { artworkLicense } from '../../src/data/emojiArtwork.js';
import { EMOJI_STYLES } from '../../src/data/emojiStyles.js';

test('the committed data card names every artwork package, its installed version, licence and authors', () => {
  const card = readFileSync(join(__dirname, '../../data/DATA_CARD.md'), 'utf8');
  for (const style of EMOJI_STYLES) {
    const lic = artworkLicense(style);
    assert.ok(card.includes(`| ${style.name} | ${style.role} | \`${lic.packageName}\`@${lic.version} | ${lic.license}`), `${style.name}: row missing or stale; regenerate with the command in the card`);
    assert.ok(card.includes(lic.author), `${style.name}: author "${lic.author}" missing`);
  }
  for (const text of ['emojibase-data', 'emojilib', 'Unicode License']) assert.ok(card.includes(text), text);
});
