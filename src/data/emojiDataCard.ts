import type { EmojiT2I } from './emojiDataset.js';
import type { EmojiManifest } from './emojiManifest.js';
import { heldoutImageIndices, MIN_DESIGNS_FOR_HELDOUT } from './heldoutImages.js';
import { styleDistances } from './styleDistance.js';

/** Counts that summarise a build: printed by the CLI and written into the data card. */
export function summarizeEmojiManifest(m: EmojiManifest): Record<string, number> {
  const count = <T>(items: readonly T[], pred: (x: T) => boolean): number => items.filter(pred).length;
  const heldout = heldoutImageIndices(m);
  return {
    concepts: m.concepts.length,
    seenConcepts: count(m.concepts, (c) => c.split === 'seen'),
    unseenConcepts: count(m.concepts, (c) => c.split === 'unseen'),
    generatorImages: count(m.images, (i) => i.role === 'generator'),
    judgeImages: count(m.images, (i) => i.role === 'judge'),
    curatedImages: count(m.images, (i) => i.role === 'generator' && i.split === 'seen') - heldout.size,
    heldoutImages: heldout.size,
    heldoutConcepts: new Set([...heldout].map((i) => m.images[i]?.concept)).size,
    unseenGeneratorImages: count(m.images, (i) => i.role === 'generator' && i.split === 'unseen'),
    webImages: count(m.web, (w) => !heldout.has(w.image)),
    webLooseCaptions: count(m.web, (w) => w.captionMode === 'loose'),
    webWrongCaptions: count(m.web, (w) => w.captionMode === 'wrong'),
    webJpeg: count(m.web, (w) => w.jpegQuality !== null),
    webBlur: count(m.web, (w) => w.blurSigma !== null),
  };
}

function countOf(m: EmojiManifest, style: string): number {
  return m.styles.find((st) => st.name === style)?.images ?? 0;
}

/**
 * The data card: what Emoji-T2I holds, where every drawing comes from and under which
 * licence, and how it was split and corrupted. Generated from a build's manifest so that
 * it cannot drift from the data.
 */
export function renderEmojiDataCard(data: EmojiT2I, command: string): string {
  const m = data.manifest;
  const s = summarizeEmojiManifest(m);
  const generatorStyles = m.styles.filter((st) => st.role === 'generator').map((st) => st.name);
  const distanceRows = styleDistances(data, generatorStyles).map((d) => `| ${d.a} | ${d.b} | ${d.meanAbsDiff.toFixed(1)} | ${d.concepts} |`);
  const w = m.config.web;
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const leftOut = m.styles.filter((st) => st.leftOut).map((st) => `- ${st.name}: ${st.leftOut}.`);
  const styleRows = m.styles.map(
    (st) =>
      `| ${st.name} | ${st.role} | \`${st.packageName}\`@${st.version} | ${st.license}${st.licenseNote ? ` (note: ${st.licenseNote})` : ''} | ${st.author}${st.url ? ` (${st.url})` : ''} | ${st.images} |`,
  );
  return `# Data card: Emoji-T2I

Real, human-drawn, openly licensed emoji, rasterised to ${m.resolution}x${m.resolution} RGB on white, with
captions built from Unicode CLDR names, groups, subgroups and keywords. It is the small world in which
selfdpo-lab reruns the Self-DPO protocol (see docs/PROTOCOL.md of the project).

Made by \`${command}\` (the shards are rebuilt on demand and not committed; this card is).

## Contents

| | count |
| --- | ---: |
| concepts (CLDR emoji, no skin-tone variants, no components) | ${s.concepts} |
| seen concepts (the generator trains on them) | ${s.seenConcepts} |
| unseen concepts (held out from the generator, stable hash, ${pct(m.config.unseenFraction)}) | ${s.unseenConcepts} |
| generator-style images | ${s.generatorImages} |
| judge-style images (never shown to the generator) | ${s.judgeImages} |
| curated set: clean generator-style images of seen concepts | ${s.curatedImages} |
| web set: the same images with web-like noise | ${s.webImages} |
| held-out set: real generator-style images of seen concepts that no trainer reads | ${s.heldoutImages} |

The held-out set holds one design of each of the ${s.heldoutConcepts} seen concepts that at least ${MIN_DESIGNS_FOR_HELDOUT} generator designs
draw (a stable hash of concept and design picks it; Fluent color and Fluent 3D count as one design and
go together), so training keeps at least two designs of every concept. The post-training probe, tuning
and FID's references read it. The web set's noise was drawn for every image before the split; the web
set leaves out the noisy copies of held-out images.

A concept is kept when at least ${m.config.minGeneratorStyles} generator styles and ${m.config.minJudgeStyles} judge style draw it.
Drawings are matched across sets by codepoint sequence (variation selectors ignored); sets that name
their icons instead are matched by name against CLDR names and emojibase shortcodes.

## Artwork: every style, its source and licence

| style | role | package | artwork licence | author | images |
| --- | --- | --- | --- | --- | ---: |
${styleRows.join('\n')}
${leftOut.length > 0 ? `\nLeft out on purpose:\n\n${leftOut.join('\n')}\n` : ''}
Attribution: the drawings are the work of the authors above. The kit renders them from the npm
packages on the user's machine and shows them (as in \`results/data/sample.png\`) only in
rasterised, resized form. Changes made: rasterised, scaled down to ${m.resolution}x${m.resolution},
transparent areas flattened onto white; in the web set also JPEG-compressed or blurred.
Share-alike sets (CC BY-SA 4.0) keep that licence in any derived dataset or figure.

How independent the generator designs are: mean |difference| per pixel channel (0-255) between two
styles' drawings of the same concepts, at ${m.resolution}x${m.resolution}.

| style | style | mean abs. difference | shared concepts |
| --- | --- | ---: | ---: |
${distanceRows.join('\n')}

## Text

| source | licence | used for |
| --- | --- | --- |
| \`emojibase-data\` (Unicode CLDR annotations) | MIT (data from Unicode CLDR, Unicode License v3) | names, groups, subgroups, keywords, shortcodes for matching |
| \`emojilib\` | MIT | extra keywords |

Captions read \`<name>, <subgroup>, <group>, <k1>, <k2>, <k3>\`; the three keywords are drawn afresh
each epoch. No caption a trainer draws is ever an evaluation prompt string (\`data/prompts/\`): a
draw that equals one is replaced by another caption of the concept, with fewer keywords when every
ordering is taken. Keywords with digits, emoticons, two-letter codes and slang are dropped. Generator-style
captions may end with the style's words ("twemoji style") on request; judge styles never carry one.

## Web set noise (seed ${m.config.seed})

| noise | rate | images |
| --- | ---: | ---: |
| loose caption (keywords only) | ${pct(w.looseCaption)} | ${s.webLooseCaptions} |
| wrong caption (another seen concept's) | ${pct(w.wrongCaption)} | ${s.webWrongCaptions} |
| JPEG, quality ${w.jpegQualityMin}-${w.jpegQualityMax} | ${pct(w.jpeg)} | ${s.webJpeg} |
| Gaussian blur, sigma ${w.blurSigma} px | ${pct(w.blur)} | ${s.webBlur} |

## Known limits

- Three generator styles come from one family (Microsoft Fluent: flat, color, 3D), and Fluent color is
  the vector form of the design that Fluent 3D renders (see the distances above). docs/PROTOCOL.md lists four
  generator packages; Fluent color is added to them, and without it this build has
  ${s.generatorImages - countOf(m, 'fluent-color')} generator-style images.
- No generator style but Twemoji draws the country flags (Noto's package and the Fluent sets have none),
  so flags have one generator design and are dropped when fewer than ${m.config.minGeneratorStyles} are required.
- Some older judge sets draw the pistol of U+1F52B, which CLDR now names "water pistol"; the
  drawings follow the codepoint, as each set published it.
- Name matching for judge sets without codepoints (EmojiOne, FxEmoji, Streamline) misses icons whose
  names follow no CLDR name or shortcode; those icons are left out, never guessed.
`;
}
