import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateOptions } from '../model/generate.js';
import type { EvalResult } from '../eval/evaluate.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import type { ProbeRecord, PostTrainStepRecord } from '../train/postTrain.js';
import { JsonLines } from '../runs/progress.js';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { readJsonFile } from '../util/jsonFile.js';
import type { ReproPreset } from './reproPresets.js';
import { groupBy } from '../util/groupBy.js';

/** The copy of the Emoji-Pick build's build.json a reproduction keeps beside preset.json: Table 1's cost of preference data. */
export const PICK_BUILD_RECORD = 'emoji-pick-build.json';

/** The unit that evaluates the base model itself (every win rate is against it). */
export const BASE_UNIT = 'base';

/** The two base models of docs/PROTOCOL.md by name, as a unit records which one it post-trained. */
export const BASE_S_NAME = 'base-S';
export const BASE_L_NAME = 'base-L';
/** Every base a unit may name, in report order. */
const KNOWN_BASES: readonly string[] = [BASE_S_NAME, BASE_L_NAME];

/**
 * A unit's name, which is also its folder under `out/runs/`: on base-S the name every
 * reproduction before base-L used (`self-dpo-s2`, `base`), so that their folders and half-run
 * units keep working; on another base the same name under the base's folder (`base-L/self-dpo-s2`,
 * `base-L/base`).
 */
export function unitName(method: string, seed: number, base: string = BASE_S_NAME): string {
  const name = method === BASE_UNIT ? BASE_UNIT : `${method}-s${seed}`;
  return base === BASE_S_NAME ? name : `${base}/${name}`;
}

/** What a unit's name says: its base, method (or `BASE_UNIT`) and training seed (0 for a base unit). */
export interface UnitKey {
  base: string;
  method: string;
  seed: number;
}

/** `base-L/self-dpo-s2` -> base-L, self-dpo, 2; `sft-s1` -> base-S, sft, 1; `base` -> base-S, base, 0. */
export function parseUnitName(unit: string): UnitKey {
  const slash = unit.indexOf('/');
  const base = slash < 0 ? BASE_S_NAME : unit.slice(0, slash);
  const name = slash < 0 ? unit : unit.slice(slash + 1);
  if (name === BASE_UNIT) return { base, method: BASE_UNIT, seed: 0 };
  const m = /^(.+)-s(\d+)$/.exec(name);
  if (!m || name.includes('/')) throw new Error(`not a unit name: ${unit} (expected <method>-s<seed> or base, under a base's folder for a base other than ${BASE_S_NAME})`);
  return { base, method: m[1] as string, seed: Number(m[2]) };
}

/** Every unit a preset has, in run order: per base, the base's own evaluation, then every method on every seed. */
export function presetUnitNames(preset: Pick<ReproPreset, 'bases' | 'seeds'>): string[] {
  return preset.bases.flatMap((b) => [unitName(BASE_UNIT, 0, b.name), ...b.methods.flatMap((m) => preset.seeds.map((s) => unitName(m, s, b.name)))]);
}

/** What a reproduction was started with (preset.json); a resumed one must match it. */
export interface ReproIdentity {
  preset: ReproPreset;
  /** Each base of the preset by name: the folder it was read from (which may differ between checkouts) and its weights' sha256 (which may not). */
  bases: Record<string, { dir: string; sha256: string }>;
  judges: Record<string, string>;
  /** sha256 of every method's resolved config (configs/ may change between sessions) and of the data's manifest. */
  configsSha256: string;
  dataSha256: string;
  /** The Emoji-Pick build the preference-data methods train on: its folder, and sha256 of its identity and shards' bytes (`pickBuildSha256`). */
  pick: string;
  pickSha256: string;
}

/** preset.json: the identity and every command that worked on the reproduction. */
export interface ReproRecord extends ReproIdentity {
  /** `reportOnly`: the command only redrew the tables, figures and README from the units; `queue`: its units went to workers through this Redis queue (no password). */
  invocations: Array<{ command: string | null; started: string; threads: number; reportOnly?: boolean; queue?: string }>;
}

/** done.json: a finished unit and what it cost. */
export interface UnitDone {
  unit: string;
  /** The base it post-trained (or, for a base unit, evaluated) and that base's weights; absent in units finished before base-L joined (base-S's). */
  base?: string;
  baseSha256?: string;
  trainSeconds: number;
  evalSeconds: number;
  finished: string;
}

/** grid.json beside grid.rgb: grid.rgb holds prompts x seeds images, RGB bytes, prompt-major. */
export interface GridRecord {
  prompts: string[];
  seeds: number[];
  resolution: number;
  sampling: Omit<GenerateOptions, 'onStep'>;
}

/** One unit's records read back from results/<preset>/runs/<unit>/. */
export interface UnitRecord {
  unit: string;
  /** configs/ name, or 'base'. */
  method: string;
  /** Training seed (0 for the base). */
  seed: number;
  /**
   * The base model the unit post-trained, or the base a base unit evaluates: `BASE_S_NAME` or
   * `BASE_L_NAME`. Units that do not record it are base-S's (`unitBase`): every reproduction before
   * base-L ran on base-S alone. The claims check compares models on the same base by it.
   */
  base?: string;
  config?: PostTrainConfig;
  evals: Partial<Record<PromptSetName, EvalResult>>;
  metrics: PostTrainStepRecord[];
  probe: ProbeRecord[];
  done?: UnitDone;
  /** images[p][s]: prompt p from seed s. */
  grid?: { record: GridRecord; images: Uint8Array[][] };
}

export function readUnit(dir: string, unit: string): UnitRecord {
  const { base, method, seed } = parseUnitName(unit);
  const evals: Partial<Record<PromptSetName, EvalResult>> = {};
  for (const set of PROMPT_SETS) {
    const file = join(dir, `eval-${set}.json`);
    if (existsSync(file)) evals[set] = readJsonFile(file, 'evaluation') as EvalResult;
  }
  const lines = (name: string): Array<Record<string, unknown>> => (existsSync(join(dir, name)) ? new JsonLines(join(dir, name)).read() : []);
  const record: UnitRecord = {
    unit,
    method,
    seed,
    base,
    evals,
    metrics: lines('metrics.jsonl') as unknown as PostTrainStepRecord[],
    probe: lines('heldout.jsonl') as unknown as ProbeRecord[],
  };
  if (existsSync(join(dir, 'config.json'))) record.config = (readJsonFile(join(dir, 'config.json'), 'run config') as { config: PostTrainConfig }).config;
  if (existsSync(join(dir, 'done.json'))) {
    record.done = readJsonFile(join(dir, 'done.json'), 'done.json') as UnitDone;
    // The folder says which base; done.json says it too since base-L joined, and the two must agree.
    if (record.done.base !== undefined && record.done.base !== base) throw new Error(`${join(dir, 'done.json')}: unit of ${record.done.base}, but its folder is ${base}'s (${unit})`);
  }
  if (existsSync(join(dir, 'grid.json')) && existsSync(join(dir, 'grid.rgb'))) {
    const g = readJsonFile(join(dir, 'grid.json'), 'grid.json') as GridRecord;
    const bytes = readFileSync(join(dir, 'grid.rgb'));
    const per = g.resolution * g.resolution * 3;
    if (bytes.length !== g.prompts.length * g.seeds.length * per) throw new Error(`${join(dir, 'grid.rgb')}: ${bytes.length} bytes, expected ${g.prompts.length} x ${g.seeds.length} images of ${per}`);
    const image = (p: number, s: number): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset + (p * g.seeds.length + s) * per, per);
    record.grid = { record: g, images: g.prompts.map((_, p) => g.seeds.map((_, s) => image(p, s))) };
  }
  return record;
}

/**
 * Every finished unit under `out/runs/` (base-S's) and `out/runs/<base>/` (another base's), each
 * base's own evaluation first. A unit is finished when its done.json is written, last: one still
 * training or evaluating (its curated-val scored, the other sets not yet) is left out, so a report
 * redrawn while a reproduction runs counts only whole units.
 */
export function readUnits(out: string): UnitRecord[] {
  const root = join(out, 'runs');
  if (!existsSync(root)) return [];
  const isUnit = (dir: string): boolean => existsSync(join(dir, 'done.json'));
  const names: string[] = [];
  for (const entry of readdirSync(root).sort()) {
    if (isUnit(join(root, entry))) names.push(entry);
    else if (KNOWN_BASES.includes(entry) && entry !== BASE_S_NAME) for (const sub of readdirSync(join(root, entry)).sort()) if (isUnit(join(root, entry, sub))) names.push(`${entry}/${sub}`);
  }
  const keys = new Map(names.map((n) => [n, parseUnitName(n)]));
  const order = (n: string): [number, number] => {
    const k = keys.get(n) as UnitKey;
    return [KNOWN_BASES.indexOf(k.base), k.method === BASE_UNIT ? 0 : 1];
  };
  names.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1] || a.localeCompare(b);
  });
  return names.map((n) => readUnit(join(root, n), n));
}

/** The base a unit post-trained (or evaluates): its record's, else base-S. */
export function unitBase(unit: UnitRecord): string {
  return unit.base ?? BASE_S_NAME;
}

/** The units of one base (each unit's record, else base-S). */
export function unitsOnBase(units: readonly UnitRecord[], base: string): UnitRecord[] {
  return units.filter((u) => unitBase(u) === base);
}

/** The units of one method (its seeds, or the base), in the order given. */
export function unitsOfMethod(units: readonly UnitRecord[], method: string): UnitRecord[] {
  return groupBy(units, (u) => u.method).get(method) ?? [];
}
