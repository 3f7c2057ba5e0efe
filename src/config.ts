/**
 * Typed configuration: every experiment is a plain object made from defaults plus a
 * deep-partial override. Overrides are checked against the defaults' shape, so an unknown
 * key or a wrong type is rejected with a message naming the full key path, before any
 * work starts.
 */

/** A recursive partial of a config object. Arrays are replaced whole, never merged. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Thrown for an invalid config; `key` is the dotted path of the offending entry. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
    readonly source = 'config',
  ) {
    super(`${source}: ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

/**
 * Merge `override` into `defaults`, checking every key and type against the defaults.
 * `source` names where the override came from (a file path, "--set") for error messages.
 */
export function resolveConfig<T extends object>(defaults: T, override: unknown = {}, source = 'config', prefix = ''): T {
  if (!isPlainObject(override)) {
    throw new ConfigError(prefix || '(root)', `expected an object, got ${kindOf(override)}`, source);
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    const path = prefix ? `${prefix}.${key}` : key;
    // Own keys only: `toString` or `__proto__` must not pass as known keys.
    if (!Object.hasOwn(out, key)) {
      const known = Object.keys(out).join(', ');
      throw new ConfigError(path, `unknown key (known keys here: ${known})`, source);
    }
    const base = out[key];
    if (isPlainObject(base)) {
      out[key] = resolveConfig(base, value, source, path);
    } else if (kindOf(base) !== kindOf(value)) {
      throw new ConfigError(path, `expected ${kindOf(base)}, got ${kindOf(value)} (${JSON.stringify(value)})`, source);
    } else if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new ConfigError(path, `expected a finite number, got ${value}`, source);
    } else {
      out[key] = value;
    }
  }
  return out as T;
}

/** Check that a number is an integer in [lo, hi]; names the key when it is not. */
export function checkIntegerRange(key: string, value: number, lo: number, hi: number, source = 'config'): void {
  if (!Number.isInteger(value)) throw new ConfigError(key, `must be an integer, got ${value}`, source);
  checkRange(key, value, lo, hi, source);
}

/** Check that a number lies in [lo, hi]; names the key when it does not. */
export function checkRange(key: string, value: number, lo: number, hi: number, source = 'config'): void {
  if (!(value >= lo && value <= hi)) {
    throw new ConfigError(key, `must be in [${lo}, ${hi}], got ${value}`, source);
  }
}

/** Deep merge of plain objects, arrays replaced whole: a config file applied on top of a preset or a method. */
export function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = Object.hasOwn(out, k) ? mergeDeep(out[k], v) : v;
  return out;
}

/** The optimiser keys pretraining and post-training configs share, checked alike. */
export function checkOptimizerKeys(t: { lr: number; weightDecay: number; beta1: number; beta2: number; clipNorm: number }, source: string): void {
  checkRange('train.lr', t.lr, 0, 1, source);
  checkRange('train.weightDecay', t.weightDecay, 0, 1, source);
  checkRange('train.beta1', t.beta1, 0, 0.999999, source);
  checkRange('train.beta2', t.beta2, 0, 0.999999, source);
  checkRange('train.clipNorm', t.clipNorm, 0, 1e9, source);
}

/** The logging cadence keys both training configs share: the held-out evaluation falls on checkpoints. */
export function checkLogCadence(l: { every: number; checkpointEvery: number; evalEvery: number }, source: string): void {
  checkIntegerRange('log.every', l.every, 1, 1e9, source);
  checkIntegerRange('log.checkpointEvery', l.checkpointEvery, 1, 1e9, source);
  checkIntegerRange('log.evalEvery', l.evalEvery, 1, 1e9, source);
  if (l.evalEvery % l.checkpointEvery !== 0) throw new ConfigError('log.evalEvery', `must be a multiple of checkpointEvery (${l.checkpointEvery})`, source);
}
