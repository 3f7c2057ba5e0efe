/** Where a dataset problem was found, beyond the file itself. */
export interface DatasetErrorWhere {
  /** 1-based line of the captions file that the problem belongs to. */
  line?: number;
  /** The JSON key at fault (`"file"`, `"caption"`). */
  key?: string;
  /**
   * The captions file whose `line` lists `file`, when `file` is not that captions file
   * itself (an image that is missing or cannot be decoded).
   */
  listedIn?: string;
}

/**
 * Bad input data: names the file, and the line and key when known, so the user can go
 * straight to the fix, e.g. `data/my/captions.jsonl line 7: "caption" is empty` or
 * `data/my/img/a.png (data/my/captions.jsonl line 3): cannot decode image: ...`.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  /** The file at fault: the captions file, an image, or the dataset folder itself. */
  readonly file: string;
  /** 1-based line of the captions file this problem belongs to. */
  readonly line?: number;
  /** The JSON key at fault. */
  readonly key?: string;
  /** The captions file that lists `file` (set when `file` is an image). */
  readonly listedIn?: string;
  /** The message without its location: what is wrong. */
  readonly reason: string;

  constructor(file: string, reason: string, where: DatasetErrorWhere = {}) {
    const { line, key, listedIn } = where;
    let location = file;
    if (line !== undefined) {
      location = listedIn !== undefined ? `${file} (${listedIn} line ${line})` : `${file} line ${line}`;
    }
    const detail = key !== undefined ? `"${key}" ${reason}` : reason;
    super(`${location}: ${detail}`);
    this.file = file;
    if (line !== undefined) this.line = line;
    if (key !== undefined) this.key = key;
    if (listedIn !== undefined) this.listedIn = listedIn;
    this.reason = detail;
  }

  /** This error as a skipped item (for loaders that may skip bad items). */
  toBadItem(): BadItem {
    return this.line !== undefined ? { file: this.file, line: this.line, reason: this.reason } : { file: this.file, reason: this.reason };
  }
}

/** One example a loader skipped: the file at fault, its captions line, and why. */
export interface BadItem {
  file: string;
  line?: number;
  reason: string;
}
