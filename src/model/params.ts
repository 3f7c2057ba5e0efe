import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Rng } from '../util/rng.js';

/** How a parameter starts. `normal`/`uniform` draw from a stream derived from (seed, name). */
export type Init = { zeros: true } | { ones: true } | { normal: number } | { uniform: number };

export const zeros: Init = { zeros: true };
export const ones: Init = { ones: true };
/** He-style normal init for a layer with `fanIn` inputs feeding a SiLU/ReLU-like nonlinearity. */
export function heNormal(fanIn: number): Init {
  return { normal: Math.sqrt(2 / fanIn) };
}
/** Glorot/Xavier uniform init. */
export function glorotUniform(fanIn: number, fanOut: number): Init {
  return { uniform: Math.sqrt(6 / (fanIn + fanOut)) };
}

/**
 * A model's parameters by name, created lazily the first time the model's forward code asks
 * for them (as Flax does): the architecture is written once, in the forward pass, and the
 * names and shapes come from it. Each parameter's initial values come from a stream derived
 * from (seed, name), so they do not depend on the order layers are visited nor on the backend.
 * Once `freezeShapes()` is called (after the first forward, or after loading), asking for an
 * unknown name or a different shape is an error, which catches architecture/checkpoint drift.
 */
export class Params {
  private readonly vars = new Map<string, tf.Variable>();
  private locked = false;

  constructor(
    readonly seed: number,
    readonly trainable = true,
  ) {}

  /** The parameter `name` of `shape`, created with `init` if it does not exist yet. */
  get(name: string, shape: number[], init: Init): tf.Variable {
    const have = this.vars.get(name);
    if (have) {
      if (!sameShape(have.shape, shape)) {
        throw new Error(`parameter ${name}: shape [${have.shape}] does not match the model's [${shape}]`);
      }
      return have;
    }
    if (this.locked) throw new Error(`parameter ${name} [${shape}] is missing (the model and its weights differ)`);
    const v = ownVariable(tf.tensor(initialValues(shape, init, deriveSeed(this.seed, name)), shape), this.trainable);
    this.vars.set(name, v);
    return v;
  }

  /** After this, `get` only returns existing parameters. */
  freezeShapes(): this {
    this.locked = true;
    return this;
  }

  /** The variable `name`; throws when there is none. */
  variable(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter named ${name}`);
    return v;
  }

  get names(): string[] {
    return [...this.vars.keys()];
  }

  get variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Number of scalars over all parameters. */
  get size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Values by name, read back from the backend. */
  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  /**
   * Set values by name. Creates parameters that do not exist yet (loading into an empty
   * store); every stored name must be provided when `complete` is true.
   */
  assign(values: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, complete = true): void {
    // Check everything before writing anything: a refused assign leaves the store as it was.
    if (complete) {
      const missing = this.names.filter((n) => !values.has(n));
      if (missing.length > 0) throw new Error(`weights are missing ${missing.length} parameter(s), e.g. ${missing.slice(0, 3).join(', ')}`);
    }
    for (const [name, { shape }] of values) {
      const have = this.vars.get(name);
      if (have && !sameShape(have.shape, shape)) throw new Error(`parameter ${name}: shape [${shape}] does not match [${have.shape}]`);
      if (!have && this.locked) throw new Error(`parameter ${name} is not part of the model`);
    }
    for (const [name, { shape, data }] of values) {
      const have = this.vars.get(name);
      if (have) {
        const t = tf.tensor(data, shape);
        have.assign(t);
        t.dispose();
      } else {
        this.vars.set(name, ownVariable(tf.tensor(data, shape), this.trainable));
      }
    }
  }

  /** A copy with its own variables (a frozen reference model, EMA weights). */
  clone(trainable = this.trainable): Params {
    const out = new Params(this.seed, trainable);
    for (const [name, v] of this.vars) out.vars.set(name, ownVariable(v.clone(), trainable));
    out.locked = this.locked;
    return out;
  }

  /** Copy another store's values into this one (same names and shapes). */
  copyFrom(other: Params): void {
    for (const [name, v] of this.vars) {
      const src = other.vars.get(name);
      if (!src) throw new Error(`copyFrom: parameter ${name} is missing in the source`);
      v.assign(src);
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** A variable made from `t`, which it takes over (the temporary is released). */
function ownVariable(t: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function initialValues(shape: number[], init: Init, seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if ('ones' in init) out.fill(1);
  else if ('normal' in init) {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) out[i] = rng.normal() * init.normal;
  } else if ('uniform' in init) {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * init.uniform;
  }
  return out;
}

/** A view of a Params store under a name prefix ("down0/res1/"), for nested layers. */
export class Scope {
  constructor(
    readonly params: Params,
    readonly prefix = '',
  ) {}

  get(name: string, shape: number[], init: Init): tf.Variable {
    return this.params.get(this.prefix + name, shape, init);
  }

  child(name: string): Scope {
    return new Scope(this.params, `${this.prefix}${name}/`);
  }
}
