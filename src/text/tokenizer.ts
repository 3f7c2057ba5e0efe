/**
 * A word-level tokenizer for captions. The vocabulary comes from the training captions
 * (so words that appear only with unseen concepts map to the unknown token, as they would
 * for a model that never read them); ids are assigned by descending frequency, ties in
 * alphabetical order, so the same captions always give the same vocabulary.
 */

export const PAD = '<pad>';
export const UNK = '<unk>';
export const PAD_ID = 0;
export const UNK_ID = 1;

/**
 * Lower-case words of any script, accents folded ("piñata" -> "pinata", "São Tomé" ->
 * "sao tome"), plus the separators that carry meaning in emoji names (":" of "flag: x").
 */
export function splitWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  return folded.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[&:]/gu) ?? [];
}

/** What a tokenizer is made of, and what is saved beside a text encoder. */
export interface TokenizerSpec {
  readonly vocab: readonly string[];
  readonly maxLength: number;
}

export interface Encoded {
  /** Token ids, padded with PAD_ID to maxLength: [maxLength]. */
  readonly ids: Int32Array;
  /** 1 for real tokens, 0 for padding: [maxLength]. */
  readonly mask: Float32Array;
  /** Words dropped because the caption was longer than maxLength. */
  readonly truncated: number;
}

export class Tokenizer {
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly spec: TokenizerSpec) {
    if (spec.vocab[PAD_ID] !== PAD || spec.vocab[UNK_ID] !== UNK) {
      throw new Error(`tokenizer vocab must start with ${PAD}, ${UNK}`);
    }
    if (!(Number.isInteger(spec.maxLength) && spec.maxLength > 0)) {
      throw new Error(`tokenizer maxLength must be a positive integer, got ${spec.maxLength}`);
    }
    this.index = new Map(spec.vocab.map((w, i) => [w, i]));
  }

  /** Build a vocabulary from captions: words seen at least `minCount` times, at most `maxSize` in all. */
  static fromCaptions(captions: Iterable<string>, opts: { maxLength: number; minCount?: number; maxSize?: number }): Tokenizer {
    const counts = new Map<string, number>();
    for (const caption of captions) {
      for (const w of splitWords(caption)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const minCount = opts.minCount ?? 1;
    const words = [...counts.entries()]
      .filter(([, n]) => n >= minCount)
      .sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0))
      .map(([w]) => w);
    const limit = (opts.maxSize ?? Infinity) - 2;
    return new Tokenizer({ vocab: [PAD, UNK, ...words.slice(0, Math.max(0, limit))], maxLength: opts.maxLength });
  }

  get vocabSize(): number {
    return this.spec.vocab.length;
  }

  /** Ids of a caption's words, unknown words as UNK_ID, cut or padded to maxLength. */
  encode(text: string): Encoded {
    const words = splitWords(text);
    const n = Math.min(words.length, this.spec.maxLength);
    const ids = new Int32Array(this.spec.maxLength);
    const mask = new Float32Array(this.spec.maxLength);
    for (let i = 0; i < n; i++) {
      ids[i] = this.index.get(words[i] as string) ?? UNK_ID;
      mask[i] = 1;
    }
    return { ids, mask, truncated: words.length - n };
  }

  /** Encode many captions into flat [B*maxLength] arrays, ready for a tensor of shape [B, maxLength]. */
  encodeBatch(texts: readonly string[]): { ids: Int32Array; mask: Float32Array } {
    const L = this.spec.maxLength;
    const ids = new Int32Array(texts.length * L);
    const mask = new Float32Array(texts.length * L);
    texts.forEach((t, b) => {
      const e = this.encode(t);
      ids.set(e.ids, b * L);
      mask.set(e.mask, b * L);
    });
    return { ids, mask };
  }

  /** The words of ids, padding dropped (for logs and tests). */
  decode(ids: ArrayLike<number>): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id !== PAD_ID) out.push(this.spec.vocab[id] ?? UNK);
    }
    return out.join(' ');
  }

  toJSON(): TokenizerSpec {
    return this.spec;
  }
}
