import { existsSync } from 'node:fs';
import { buildEmojiT2I, defaultDataRoot, ensureEmojiT2I } from '../data/emojiBuilder.js';
import { resolveEmojiDataConfig, type EmojiDataConfig } from '../data/emojiConfig.js';
import { renderEmojiDataCard, summarizeEmojiManifest } from '../data/emojiDataCard.js';
import { EmojiT2I } from '../data/emojiDataset.js';
import { loadFolderDataset } from '../data/folderDataset.js';
import { PROMPTS_DIR, writePromptSets } from '../eval/promptSets.js';
import { renderEmojiSampleSheet } from '../report/emojiSampleSheet.js';
import { renderImageSheet } from '../report/imageSheet.js';
import { numberFlag, type Flag, type ParsedArgs } from '../util/args.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { Rng } from '../util/rng.js';
import { defineCommand } from './command.js';
import { EMOJI_FLAGS, FORCE } from './commonFlags.js';

const DATA_FLAGS = [
  { ...EMOJI_FLAGS[1], help: 'a data config (JSON) over the default: any key of it, checked (errors name the key)' },
  EMOJI_FLAGS[0],
  { name: 'resolution', value: 'N', help: 'image size (default: 32)' },
  { name: 'verify', help: "check every image against its manifest's hash" },
  { name: 'sample-sheet', value: 'PNG', help: 'draw a sheet of examples' },
  { name: 'card', value: 'MD', help: "write the build's data card" },
  { name: 'write-prompts', help: 'write the fixed evaluation prompt sets into data/prompts/' },
  { name: 'folder', value: 'DIR', help: 'check your own folder of images with captions.jsonl instead' },
  { name: 'skip-bad', help: '--folder: skip and count bad images and lines instead of stopping' },
  FORCE,
] as const satisfies readonly Flag[];

type DataArgs = ParsedArgs<(typeof DATA_FLAGS)[number]['name']>;

const log = (message: string): void => console.error(message);

/**
 * The data config from --data-config FILE (JSON) and --resolution, validated here so that an
 * error names the file it came from.
 */
function dataOverride(args: DataArgs): EmojiDataConfig {
  const file = args.flags['data-config'];
  let override = (typeof file === 'string' ? readJsonFile(file, 'config') : {}) as Record<string, unknown>;
  if (args.flags['resolution'] !== undefined) override = { ...override, resolution: numberFlag(args, 'resolution', 32) };
  return resolveEmojiDataConfig(override, typeof file === 'string' ? file : 'flags');
}

/** Refuse to replace a file without --force (results are never overwritten silently). */
function writeOutput(path: string, data: string | Uint8Array, force: boolean): void {
  if (existsSync(path) && !force) throw new Error(`${path} exists; pass --force to replace it`);
  writeFileAtomic(path, data);
  log(`wrote ${path}`);
}

function printSummary(data: EmojiT2I): void {
  const summary = summarizeEmojiManifest(data.manifest);
  console.log(`Emoji-T2I at ${data.resolution}x${data.resolution} in ${data.dir}`);
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(22)} ${v}`);
  for (const s of data.manifest.styles) console.log(`  ${s.name.padEnd(13)} ${s.role.padEnd(9)} ${String(s.images).padStart(5)}  ${s.license}`);
}

/** Check a user's folder of images + captions.jsonl, report what loads, optionally draw it. */
async function folderCommand(args: DataArgs, folder: string): Promise<void> {
  const skipBad = args.flags['skip-bad'] === true;
  const { set, skipped } = await loadFolderDataset(folder, { resolution: numberFlag(args, 'resolution', 32), skipBad });
  console.log(`${folder}: ${set.size} examples at ${set.resolution}x${set.resolution}${skipBad ? `, ${skipped.length} bad skipped` : ''}`);
  for (const bad of skipped.slice(0, 10)) console.log(`  skipped ${bad.file}${bad.line ? ` (line ${bad.line})` : ''}: ${bad.reason}`);
  if (skipped.length > 10) console.log(`  ... and ${skipped.length - 10} more`);
  const sheet = args.flags['sample-sheet'];
  if (typeof sheet === 'string') {
    const n = Math.min(set.size, 12);
    const rng = new Rng(0);
    const png = await renderImageSheet({
      resolution: set.resolution,
      title: `${folder}: first ${n} examples`,
      rowLabels: [''],
      columnLabels: Array.from({ length: n }, (_, i) => `${i + 1}`),
      cells: [Array.from({ length: n }, (_, i) => set.pixels(i))],
      footer: Array.from({ length: n }, (_, i) => `${i + 1}. ${set.id(i)}: ${set.caption(i, rng)}`),
    });
    writeOutput(sheet, png, args.flags['force'] === true);
  }
}

export const dataCommand = defineCommand({
  name: 'data',
  summary: 'build Emoji-T2I (on first use every command does), or check your own folder of images with captions.jsonl',
  details: 'examples: npx selfdpo data --sample-sheet sheet.png --card card.md; npx selfdpo data --folder my-images --skip-bad',
  flags: DATA_FLAGS,
  async run(args, argv) {
    if (typeof args.flags['folder'] === 'string') {
      const emojiOnly = (['data-config', 'data-root', 'card', 'verify', 'write-prompts'] as const).filter((f) => args.flags[f] !== undefined);
      if (emojiOnly.length > 0) throw new Error(`--folder does not take ${emojiOnly.map((f) => `--${f}`).join(', ')} (they are for Emoji-T2I builds)`);
      return folderCommand(args, args.flags['folder']);
    }
    const force = args.flags['force'] === true;
    const dataRoot = (args.flags['data-root'] as string | undefined) ?? defaultDataRoot();
    const override = dataOverride(args);
    const { dir } = force ? await buildEmojiT2I(override, { dataRoot, force, log }) : await ensureEmojiT2I(override, { dataRoot, log });
    const data = EmojiT2I.open(dir, args.flags['verify'] === true);
    printSummary(data);
    const command = `npm run data -- ${argv.join(' ')}`.trim();
    if (typeof args.flags['sample-sheet'] === 'string') writeOutput(args.flags['sample-sheet'], await renderEmojiSampleSheet(data), force);
    if (typeof args.flags['card'] === 'string') writeOutput(args.flags['card'], renderEmojiDataCard(data, command), force);
    if (args.flags['write-prompts'] === true) for (const path of writePromptSets(data, PROMPTS_DIR, force)) log(`wrote ${path}`);
  },
});
