import { blur } from './blur.js';
import type { Downgrade } from './downgrade.js';
import { nearestConcept } from './nearestConcept.js';
import { randomGrid } from './randomGrid.js';
import { randomImage } from './randomImage.js';
import { randomImageInBatch } from './randomImageInBatch.js';

/**
 * Every downgrade by name. A new downgrade is one new file plus one line here; the name
 * type, the list of names and the lookup follow from this object.
 */
const REGISTRY = {
  randomImage,
  randomImageInBatch,
  blur,
  randomGrid,
  nearestConcept,
} satisfies Record<string, Downgrade>;

/** The name of a registered downgrade (what configs write). */
export type DowngradeName = keyof typeof REGISTRY;

/** Every downgrade by name. */
export const DOWNGRADES: Readonly<Record<DowngradeName, Downgrade>> = REGISTRY;

/** The registered names, in registry order. */
export const DOWNGRADE_NAMES = Object.keys(REGISTRY) as DowngradeName[];

/** Is `name` a registered downgrade? */
export function isDowngradeName(name: string): name is DowngradeName {
  return Object.prototype.hasOwnProperty.call(REGISTRY, name);
}

/** The downgrade called `name`; an unknown name throws an error listing the known ones. */
export function getDowngrade(name: string): Downgrade {
  if (!isDowngradeName(name)) throw new Error(`unknown downgrade '${name}'; expected one of ${DOWNGRADE_NAMES.join(', ')}`);
  return DOWNGRADES[name];
}
