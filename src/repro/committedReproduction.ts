import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readReproRecord } from './reproRecord.js';
import { presetUnitNames, readUnits, type ReproRecord, type UnitRecord } from './reproUnits.js';

/** A reproduction read back from results/<preset>/ (what the notebooks chart and tabulate). */
export interface CommittedReproduction {
  dir: string;
  record: ReproRecord;
  units: UnitRecord[];
  /** Units the preset has: each base's own evaluation plus every method of it on every seed. */
  expected: number;
}

/**
 * The reproduction the notebooks read: the first of `presets` (the paper's first) in
 * `resultsRoot` whose units have all finished. A partly run paper preset (it spans
 * sessions) is passed over for the quick one; with none finished the error names what was
 * found and the command that makes one.
 */
export function committedReproduction(resultsRoot = 'results', presets: readonly string[] = ['paper', 'quick']): CommittedReproduction {
  const found: string[] = [];
  for (const name of presets) {
    const dir = join(resultsRoot, name);
    if (!existsSync(join(dir, 'preset.json'))) continue;
    const record = readReproRecord(join(dir, 'preset.json'));
    const units = readUnits(dir);
    const names = presetUnitNames(record.preset);
    const finished = new Set(units.filter((u) => u.done).map((u) => u.unit));
    const done = names.filter((n) => finished.has(n)).length;
    // Only the preset's own units, all finished (a leftover folder neither counts nor shows).
    if (done === names.length) return { dir, record, units: units.filter((u) => names.includes(u.unit)), expected: names.length };
    found.push(`${dir}: ${done} of ${names.length} units finished`);
  }
  throw new Error(`no finished reproduction in ${resultsRoot}/ (${found.length > 0 ? found.join('; ') : `none of ${presets.join(', ')} has a preset.json`}): run npm run reproduce -- --preset quick`);
}
