import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCaption } from '../../src/data/captions.js';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I, type EmojiView } from '../../src/data/emojiDataset.js';
import { EMOJI_STYLES } from '../../src/data/emojiStyles.js';
import { buildPromptSet, PROMPT_SETS } from '../../src/data/evalPrompts.js';
import { MIN_DESIGNS_FOR_HELDOUT } from '../../src/data/heldoutImages.js';
import { deriveSeed, Rng } from '../../src/util/rng.js';

const TRAINING_VIEWS: EmojiView[] = ['web', 'curated', 'heldout', 'unseen', 'judge'];

async function fullBuild(): Promise<EmojiT2I> {
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  return EmojiT2I.open(dir);
}

test('no caption a trainer can draw is an evaluation prompt string (every view, 40 epochs of the loader streams)', async () => {
  const data = await fullBuild();
  const prompts = new Set(PROMPT_SETS.flatMap((name) => buildPromptSet(data, name).map((p) => p.prompt)));
  assert.deepEqual([...data.reservedCaptions].sort(), [...prompts].sort());
  let drawn = 0;
  let unguarded = 0;
  for (const view of TRAINING_VIEWS) {
    const set = data.view(view);
    for (let epoch = 0; epoch < 40; epoch++) {
      for (let i = 0; i < set.size; i++) {
        const seed = deriveSeed(0, 'caption', epoch, i);
        const caption = set.caption(i, new Rng(seed));
        assert.ok(!prompts.has(caption), `${view} ${set.id(i)} epoch ${epoch} drew the evaluation prompt "${caption}"`);
        drawn += 1;
      }
    }
  }
  // The same streams without the guard draw evaluation prompts (the check is not vacuous).
  const curated = data.view('curated');
  for (let epoch = 0; epoch < 40; epoch++) {
    for (let i = 0; i < curated.size; i++) {
      const concept = data.conceptByKey.get(curated.id(i).split('/')[1] as string);
      if (concept && prompts.has(buildCaption(concept, new Rng(deriveSeed(0, 'caption', epoch, i))))) unguarded += 1;
    }
  }
  assert.ok(drawn > 500000, `${drawn} captions checked`);
  assert.ok(unguarded > 100, `only ${unguarded} unguarded draws hit an evaluation prompt`);
});

test('the held-out real images: one design per seen concept with enough designs, twins together, never in a training view', async () => {
  const data = await fullBuild();
  const images = data.manifest.images;
  const design = (style: string): string => EMOJI_STYLES.find((s) => s.name === style)?.designOf ?? style;
  const designsOf = new Map<string, Set<string>>();
  for (const img of images) if (img.role === 'generator' && img.split === 'seen') designsOf.set(img.concept, (designsOf.get(img.concept) ?? new Set()).add(design(img.style)));
  const heldoutDesigns = new Map<string, Set<string>>();
  for (const i of data.heldoutImages) {
    const img = images[i];
    assert.ok(img && img.role === 'generator' && img.split === 'seen', `held-out image ${img?.id} is not a seen generator-style image`);
    heldoutDesigns.set(img.concept, (heldoutDesigns.get(img.concept) ?? new Set()).add(design(img.style)));
  }
  for (const [concept, designs] of designsOf) {
    const held = heldoutDesigns.get(concept);
    if (designs.size >= MIN_DESIGNS_FOR_HELDOUT) assert.equal(held?.size, 1, `${concept}: ${held?.size ?? 0} held-out designs`);
    else assert.equal(held, undefined, `${concept} has ${designs.size} designs and gives one away`);
  }
  // Twins go together: a held-out fluent-3d design holds out its fluent-color rendering too.
  for (const i of data.heldoutImages) {
    const img = images[i];
    for (const other of images) if (other.concept === img?.concept && other.role === 'generator' && design(other.style) === design(img.style)) assert.ok(data.heldoutImages.has(images.indexOf(other)));
  }
  const heldIds = new Set([...data.heldoutImages].map((i) => images[i]?.id));
  const curated = data.view('curated');
  const web = data.view('web');
  const heldout = data.view('heldout');
  for (let k = 0; k < curated.size; k++) assert.ok(!heldIds.has(curated.id(k)), `curated view holds ${curated.id(k)}`);
  for (let k = 0; k < web.size; k++) assert.ok(!heldIds.has(web.id(k).slice('web/'.length)), `web view holds ${web.id(k)}`);
  assert.equal(heldout.size, data.heldoutImages.size);
  assert.equal(curated.size + heldout.size, images.filter((img) => img.role === 'generator' && img.split === 'seen').length);
  assert.ok(heldoutDesigns.size > 1400, `${heldoutDesigns.size} concepts with a held-out design`);
});
