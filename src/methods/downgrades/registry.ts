import { blur } from './blur.js';
import type { Downgrade } from './downgrade.js';
import { nearestConcept } from './nearestConcept.js';
import { randomGrid } from './randomGrid.js';
import { randomImage } from './randomImage.js';
import { randomImageInBatch } from './randomImageInBatch.js';

/**
 * Every built-in downgrade by name. A new downgrade is one new file plus one line here; the name
 * type, the list of names and the lookup follow from this object.
 */
const REGISTRY = {
  randomImage,
  randomImageInBatch,
  blur,
  randomGrid,
  nearestConcept,
} satisfies Record<string, Downgrade>;

/** The name of a built-in downgrade. */
export type DowngradeName = keyof typeof REGISTRY;

/** Every built-in downgrade by name. */
export const DOWNGRADES: Readonly<Record<DowngradeName, Downgrade>> = REGISTRY;

/** The built-in names, in registry order. */
export const DOWNGRADE_NAMES = Object.keys(REGISTRY) as DowngradeName[];

/** Downgrades registered at run time (`registerDowngrade`), by name. */
const ADDED = new Map<string, Downgrade>();

/**
 * Add a downgrade for this process, so a config can name it (`"downgrade": "jpeg"`) and a
 * post-train run in a notebook trains with it, as the built-ins do. Losers are made in the main
 * thread, so worker threads need nothing. A CLI run or a reproduction unit is a new process that
 * knows only the built-ins: for those, add a file to `src/methods/downgrades/` (docs/DESIGN.md).
 * A run's identity holds the name, not the code: give a changed function a new name.
 */
export function registerDowngrade(downgrade: Downgrade): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(downgrade.name)) throw new Error(`registerDowngrade: name must be a letter followed by letters, digits, '_' or '-', got '${downgrade.name}'`);
  if (isDowngradeName(downgrade.name)) throw new Error(`a downgrade called '${downgrade.name}' is already registered`);
  ADDED.set(downgrade.name, downgrade);
}

/** Every downgrade name a config may give: the built-ins, then those registered at run time. */
export function downgradeNames(): string[] {
  return [...DOWNGRADE_NAMES, ...ADDED.keys()];
}

function isBuiltIn(name: string): name is DowngradeName {
  return Object.prototype.hasOwnProperty.call(REGISTRY, name);
}

/** Is `name` a built-in or registered downgrade? */
export function isDowngradeName(name: string): boolean {
  return isBuiltIn(name) || ADDED.has(name);
}

/** The downgrade called `name`; an unknown name throws an error listing the known ones. */
export function getDowngrade(name: string): Downgrade {
  const found = isBuiltIn(name) ? DOWNGRADES[name] : ADDED.get(name);
  if (found === undefined) throw new Error(`unknown downgrade '${name}'; expected one of ${downgradeNames().join(', ')}`);
  return found;
}
