import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWeights, writeWeights, type NamedWeights, type WeightsManifest } from '../model/weightsFile.js';
import { resolveAtomicDir, writeDirAtomic } from '../util/atomicDir.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';

/**
 * Named groups that make up a resumable training state (weights, EMA, moments): tfjs variables,
 * or named views of flat buffers (`FlatLayout.named`), which loading fills in place.
 */
export type VariableGroups = Record<string, ReadonlyMap<string, tf.Variable> | NamedWeights>;

function isVariableGroup(group: VariableGroups[string]): group is ReadonlyMap<string, tf.Variable> {
  const first = group.values().next().value as unknown;
  return first instanceof tf.Variable;
}

interface StateFile {
  step: number;
  groups: Record<string, WeightsManifest>;
  extra: Record<string, unknown>;
}

async function named(group: VariableGroups[string]): Promise<NamedWeights> {
  if (!isVariableGroup(group)) return group as NamedWeights;
  const out: NamedWeights = new Map();
  for (const [name, v] of group) out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  return out;
}

/** Write every group and the step into `dir` atomically (a kill leaves the previous state whole). */
export async function saveTrainState(dir: string, step: number, groups: VariableGroups, extra: Record<string, unknown> = {}): Promise<void> {
  const values: Record<string, NamedWeights> = {};
  for (const [g, vars] of Object.entries(groups)) values[g] = await named(vars);
  await writeDirAtomic(dir, (tmp) => {
    const manifests: Record<string, WeightsManifest> = {};
    for (const [g, w] of Object.entries(values)) manifests[g] = writeWeights(tmp, `${g}.bin`, w);
    const file: StateFile = { step, groups: manifests, extra };
    writeFileAtomic(join(tmp, 'state.json'), `${JSON.stringify(file)}\n`);
  });
}

/** The state file of `dir` (or of the `.old` copy a crash left), read and checked; undefined when there is no state at all. */
function readStateFile(dir: string): { found: string; file: StateFile } | undefined {
  const found = resolveAtomicDir(dir);
  if (!found) return undefined;
  const path = join(found, 'state.json');
  if (!existsSync(path)) {
    // Weights without the file that says which step they are: restarting from step 0 would silently throw them away.
    if (readdirSync(found).length > 0) throw new Error(`${path} is missing but ${found} holds ${readdirSync(found).join(', ')}: the state is damaged; pass --force to start the run over`);
    return undefined;
  }
  let file: StateFile;
  try {
    file = readJsonFile(path, 'training state') as StateFile;
  } catch (err) {
    // Garbled, cut or empty: the weights beside it cannot be placed at a step.
    throw new Error(`${(err as Error).message}; this checkpoint cannot be resumed: pass --force to start the run over`);
  }
  if (typeof file.step !== 'number' || typeof file.groups !== 'object' || file.groups === null)
    throw new Error(`${path}: not a training state (no step or groups); pass --force to start the run over`);
  return { found, file };
}

/** The saved step, or undefined when `dir` holds no state. */
export function savedStep(dir: string): number | undefined {
  return readStateFile(dir)?.file.step;
}

/** Restore every group's variables from `dir` (same names and shapes); returns the step and extras. */
export function loadTrainState(dir: string, groups: VariableGroups): { step: number; extra: Record<string, unknown> } {
  const state = readStateFile(dir);
  if (!state) throw new Error(`${join(dir, 'state.json')} not found`);
  const { found, file } = state;
  const path = join(found, 'state.json');
  for (const [g, vars] of Object.entries(groups)) {
    const manifest = file.groups[g];
    if (!manifest) throw new Error(`${path}: no group "${g}"`);
    let weights: NamedWeights;
    try {
      weights = readWeights(found, manifest);
    } catch (err) {
      // The run's only checkpoint is its last state: say how to go on.
      throw new Error(`${(err as Error).message}; this checkpoint cannot be resumed: pass --force to start the run over`);
    }
    for (const [name, v] of vars) {
      const w = weights.get(name);
      if (!w) throw new Error(`${join(found, manifest.file)}: no weights for ${name}`);
      if (w.shape.join() !== v.shape.join()) throw new Error(`${join(found, manifest.file)}: ${name} has shape [${w.shape}], expected [${v.shape}]`);
      if (v instanceof tf.Variable) {
        const t = tf.tensor(w.data, w.shape);
        v.assign(t);
        t.dispose();
      } else {
        v.data.set(w.data);
      }
    }
    if (weights.size !== vars.size) throw new Error(`${join(found, manifest.file)}: ${weights.size} tensors, expected ${vars.size}`);
  }
  return { step: file.step, extra: file.extra };
}
