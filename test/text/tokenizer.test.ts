import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAD_ID, splitWords, Tokenizer, UNK_ID } from '../../src/text/tokenizer.js';

test('words are lower-cased; & and : survive as tokens; other punctuation splits', () => {
  assert.deepEqual(splitWords('Flag: Croatia, smileys & emotion, jack-o-lantern'), ['flag', ':', 'croatia', 'smileys', '&', 'emotion', 'jack', 'o', 'lantern']);
});

test('letters of any script count, accents fold away', () => {
  assert.deepEqual(splitWords('piñata'), ['pinata']);
  assert.deepEqual(splitWords('flag: São Tomé & Príncipe'), ['flag', ':', 'sao', 'tome', '&', 'principe']);
  assert.deepEqual(splitWords('Côte d’Ivoire'), ['cote', 'd’ivoire']);
  assert.deepEqual(splitWords('一只黑猫, Кот'), ['一只黑猫', 'кот']);
});

test('vocabulary: specials first, then by frequency, ties alphabetical', () => {
  const tok = Tokenizer.fromCaptions(['b a c', 'a b', 'a d'], { maxLength: 4 });
  // counts: a 3, b 2, c 1, d 1
  assert.deepEqual(tok.spec.vocab, ['<pad>', '<unk>', 'a', 'b', 'c', 'd']);
  assert.deepEqual(Tokenizer.fromCaptions(['b a c', 'a b', 'a d'], { maxLength: 4, minCount: 2 }).spec.vocab, ['<pad>', '<unk>', 'a', 'b']);
  assert.deepEqual(Tokenizer.fromCaptions(['b a c', 'a b', 'a d'], { maxLength: 4, maxSize: 3 }).spec.vocab, ['<pad>', '<unk>', 'a']);
});

test('encode maps unknown words to UNK, pads with PAD, truncates at maxLength', () => {
  const tok = Tokenizer.fromCaptions(['red apple', 'green apple'], { maxLength: 4 });
  // vocab: pad unk apple green red
  const e = tok.encode('Red pear');
  assert.deepEqual([...e.ids], [4, UNK_ID, PAD_ID, PAD_ID]);
  assert.deepEqual([...e.mask], [1, 1, 0, 0]);
  assert.equal(e.truncated, 0);
  const long = tok.encode('apple apple green red red apple');
  assert.deepEqual([...long.ids], [2, 2, 3, 4]);
  assert.equal(long.truncated, 2);
  assert.equal(tok.decode(e.ids), 'red <unk>');
  const batch = tok.encodeBatch(['apple', 'green apple']);
  assert.deepEqual([...batch.ids], [2, 0, 0, 0, 3, 2, 0, 0]);
});

test('a spec round-trips through JSON, and a bad spec is refused', () => {
  const tok = Tokenizer.fromCaptions(['a b'], { maxLength: 3 });
  const again = new Tokenizer(JSON.parse(JSON.stringify(tok)));
  assert.deepEqual([...again.encode('b a').ids], [...tok.encode('b a').ids]);
  assert.throws(() => new Tokenizer({ vocab: ['a'], maxLength: 3 }), /must start with <pad>, <unk>/);
  assert.throws(() => new Tokenizer({ vocab: ['<pad>', '<unk>'], maxLength: 0 }), /maxLength/);
});
