import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanKeywords, hasSkinTone, keyOfEmoji, loadEmojiCatalog, normalizeCodepoints, slugName } from '../../src/data/emojiCatalog.js';

test('codepoint keys drop variation selectors and are lower-case', () => {
  assert.equal(normalizeCodepoints('0023-FE0F-20E3'), '0023-20e3');
  assert.equal(normalizeCodepoints('1F3F3_FE0F_200D_1F308'), '1f3f3-200d-1f308');
  assert.equal(keyOfEmoji('😀'), '1f600');
  assert.equal(keyOfEmoji('#️⃣'), '0023-20e3');
});

test('skin tones are recognised anywhere in a sequence, and only them', () => {
  assert.ok(hasSkinTone('1f44d-1f3fd'));
  assert.ok(hasSkinTone('1f9d1-1f3ff-200d-1f3a8'));
  assert.ok(!hasSkinTone('1f44d'));
  assert.ok(!hasSkinTone('1f3fa')); // amphora: next to the modifier range, not in it
});

test('names from different sets meet after slugging', () => {
  assert.equal(slugName('flag-for-croatia'), slugName('flag: Croatia'));
  assert.equal(slugName('alarmclock'), slugName('alarm clock'));
  assert.equal(slugName('Jack-O-Lantern'), 'jackolantern');
});

test('keyword cleaning drops digits, emoticons, codes, slang and what the caption already says', () => {
  assert.deepEqual(
    cleanKeywords(['face_with_tears_of_joy', 'face', ':D', 'lol', 'HR', '100', 'tears', 'cry', 'cry', 'happy tears', 'blue-square', 'smiling', 'Smileys & Emotion'], 'face with tears of joy', ['smileys & emotion', 'smiling']),
    ['cry', 'happy tears', 'blue-square'],
  );
  assert.deepEqual(cleanKeywords(['down-right', 'direction', 'flags', 'flag'], 'down-right arrow', ['flags']), ['direction', 'flag']);
});

test('the catalog holds CLDR concepts with names, groups and keywords, and no components or skin tones', () => {
  const cat = loadEmojiCatalog();
  assert.ok(cat.concepts.length > 1800, `${cat.concepts.length} concepts`);
  const grin = cat.byKey.get('1f600');
  assert.ok(grin);
  assert.equal(grin.name, 'grinning face');
  assert.equal(grin.group, 'smileys & emotion');
  assert.equal(grin.subgroup, 'smiling');
  assert.equal(grin.codepoint, 'U+1F600');
  assert.ok(grin.keywords.includes('smile'));
  assert.ok(!grin.keywords.includes('grinning') && !grin.keywords.includes('face'), 'words of the name are not keywords');
  assert.ok(!cat.byKey.has('1f3fb'), 'skin-tone swatch is a component, not a concept');
  assert.ok(!cat.byKey.has('1f9b0'), 'red hair component is not a concept');
  assert.ok(cat.concepts.every((c) => !hasSkinTone(c.key)));
  assert.equal(cat.byName.get(slugName('flag-for-croatia')), '1f1ed-1f1f7');
});
