import * as tf from '@tensorflow/tfjs';
import { noiseCoefficients } from '../diffusion/forwardNoise.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { Tokenizer } from '../text/tokenizer.js';
import { countFlops } from './layers.js';
import { Params, Scope } from './params.js';
import { encodeText, type TextContext, type TextEncoderConfig } from './textEncoder.js';
import { unet, type UNetConfig } from './unet.js';

/** Everything that fixes the network's shape. */
export interface ModelConfig {
  /** Image side in pixels (32 or 64). */
  resolution: number;
  /** Caption words kept (the tokenizer's maxLength). */
  maxWords: number;
  text: TextEncoderConfig;
  unet: UNetConfig;
  /**
   * What the UNet's output means. 'eps': the noise itself. 'v': v = sqrt(alphaBar)·eps -
   * sqrt(1 - alphaBar)·x0 (Salimans & Ho 2022), from which predictEps derives
   * eps = sqrt(1 - alphaBar)·xt + sqrt(alphaBar)·v. Either way the kit works with eps
   * predictions; 'v' carries xt through to the output (at high noise eps is nearly xt), which
   * a small network does not have to learn. Model files without the key are 'eps'.
   */
  prediction: 'eps' | 'v';
}

/** Parameter-name prefixes of the two parts (the text encoder is frozen after pretraining). */
export const TEXT_PREFIX = 'text/';
export const UNET_PREFIX = 'unet/';

/**
 * The text-to-image denoiser: tokenizer + text encoder + UNet, mapping (xt, t, caption) to the
 * network's output (eps or v). Only `predictEps` takes the noise schedule, to turn a v output
 * into eps; training and sampling live elsewhere.
 */
export class TextToImageModel {
  constructor(
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    readonly params: Params,
  ) {
    if (tokenizer.spec.maxLength !== config.maxWords) {
      throw new Error(`tokenizer maxLength ${tokenizer.spec.maxLength} differs from the model's maxWords ${config.maxWords}`);
    }
  }

  /** A freshly initialised model (parameters from `seed`). */
  static create(config: ModelConfig, tokenizer: Tokenizer, seed: number): TextToImageModel {
    const model = new TextToImageModel(config, tokenizer, new Params(seed));
    tf.tidy(() => {
      unet(new Scope(model.params, UNET_PREFIX), config.unet, tf.zeros([1, config.resolution, config.resolution, 3]), [0], model.encode(['']));
    });
    model.params.freezeShapes();
    return model;
  }

  /** The text encoder's output for captions ('' is the unconditional input). Call inside tf.tidy. */
  encode(captions: readonly string[], params: Params = this.params): TextContext {
    const { ids, mask } = this.tokenizer.encodeBatch(captions);
    const L = this.config.maxWords;
    return encodeText(new Scope(params, TEXT_PREFIX), this.config.text, this.tokenizer.vocabSize, tf.tensor2d(ids, [captions.length, L], 'int32'), tf.tensor2d(mask, [captions.length, L]));
  }

  /**
   * eps prediction for xt [B,R,R,3] at integer timesteps t [B] of `schedule` (the schedule is
   * needed only to read a 'v' output as eps). Call inside tf.tidy.
   */
  predictEps(xt: tf.Tensor4D, t: ArrayLike<number>, text: TextContext, schedule: NoiseSchedule, params: Params = this.params): tf.Tensor4D {
    const out = unet(new Scope(params, UNET_PREFIX), this.config.unet, xt, t, text);
    if (this.config.prediction !== 'v') return out;
    const { signal, noise } = noiseCoefficients(schedule, t);
    return tf.add(tf.mul(xt, noise), tf.mul(out, signal));
  }

  /** Parameters of the UNet alone (what post-training updates). */
  unetVariables(params: Params = this.params): tf.Variable[] {
    return params.names.filter((n) => n.startsWith(UNET_PREFIX)).map((n) => params.variable(n));
  }

  /** Matmul + conv FLOPs of one UNet forward pass on one image (text encoder excluded). */
  unetFlopsPerImage(): number {
    return (
      countFlops(() => {
        const text = this.encode(['']);
        unet(new Scope(this.params, UNET_PREFIX), this.config.unet, tf.zeros([1, this.config.resolution, this.config.resolution, 3]), [0], text);
      }) -
      countFlops(() => {
        this.encode(['']);
      })
    );
  }

  /** Parameter counts of the two parts. */
  parameterCounts(): { text: number; unet: number } {
    let text = 0;
    let unetCount = 0;
    for (const n of this.params.names) {
      const size = this.params.variable(n).size;
      if (n.startsWith(TEXT_PREFIX)) text += size;
      else unetCount += size;
    }
    return { text, unet: unetCount };
  }
}
