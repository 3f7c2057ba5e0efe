import { readJsonFile } from '../util/jsonFile.js';
import type { PresetBase, ReproPreset } from './reproPresets.js';
import { BASE_S_NAME, type ReproRecord } from './reproUnits.js';

/**
 * A preset as reproductions made before base-L joined saved it: one base (the record's `base`,
 * always base-S's folder), its methods and budget at the top level; before Emoji-Pick, `pairs`
 * where `pick` is now.
 */
interface SingleBasePreset extends Omit<ReproPreset, 'bases' | 'pick'> {
  methods: string[];
  train: PresetBase['train'];
  log: PresetBase['log'];
  pick?: string;
}

/** preset.json as a reproduction made before base-L wrote it. */
type SingleBaseRecord = Omit<ReproRecord, 'preset' | 'bases'> & { preset: SingleBasePreset; base: string; baseSha256: string };

/**
 * A preset.json read into today's shape: a single-base record (one `base`, the preset's
 * `methods`, `train` and `log` at its top) becomes a preset of one base, base-S, so that old
 * reproductions redraw their reports and compare with today's presets. Errors name the file.
 */
export function readReproRecord(file: string): ReproRecord {
  const raw = readJsonFile(file, 'preset.json') as ReproRecord | SingleBaseRecord;
  if (typeof raw !== 'object' || raw === null || typeof raw.preset !== 'object' || raw.preset === null) throw new Error(`${file}: no preset in this reproduction's record`);
  return asCurrentRecord(raw, file);
}

/** A record of either shape in today's (a current one as it is). */
export function asCurrentRecord(raw: ReproRecord | SingleBaseRecord, file: string): ReproRecord {
  if ('bases' in raw.preset && Array.isArray(raw.preset.bases)) return raw as ReproRecord;
  const old = raw as SingleBaseRecord;
  const { methods, train, log, pick, ...rest } = old.preset;
  if (!Array.isArray(methods)) throw new Error(`${file}: the preset has neither bases nor methods`);
  const dir = typeof old.base === 'string' ? old.base : 'data/base-s';
  const preset: ReproPreset = { ...rest, bases: [{ name: BASE_S_NAME, dir, methods, train, log }], pick: pick ?? '' };
  const { base: _base, baseSha256, ...others } = old;
  return { ...others, preset, bases: { [BASE_S_NAME]: { dir, sha256: baseSha256 } } };
}
