import { defaultDataRoot, ensureEmojiT2I } from '../data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../data/emojiConfig.js';
import { EmojiT2I } from '../data/emojiDataset.js';
import type { ParsedArgs } from '../util/args.js';
import { readJsonFile } from '../util/jsonFile.js';

/**
 * Emoji-T2I as --data-config FILE and --data-root DIR say, built first when missing; a
 * `resolution` (the model's) overrides the file's.
 */
export async function openEmojiFromFlags(args: ParsedArgs<'data-root' | 'data-config'>, resolution?: number): Promise<EmojiT2I> {
  const file = args.flags['data-config'] as string | undefined;
  const override = { ...((file !== undefined ? readJsonFile(file, 'data config') : {}) as Record<string, unknown>), ...(resolution !== undefined ? { resolution } : {}) };
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig(override, file ?? 'config'), {
    dataRoot: (args.flags['data-root'] as string | undefined) ?? defaultDataRoot(),
    log: (m) => console.error(m),
  });
  return EmojiT2I.open(dir);
}
