import * as tf from '@tensorflow/tfjs';
import { conv, dense, groupNorm, silu } from '../model/layers.js';
import type { Scope } from '../model/params.js';

/** A small convolutional image encoder: per level a conv, then a stride-2 conv, each with group norm and SiLU. */
export interface ImageTowerConfig {
  /** Channels per level; each level halves the resolution. */
  channels: number[];
  groups: number;
  /** Output width. */
  width: number;
}

/** [B,R,R,3] in [-1, 1] -> [B, width]: the levels, a global average pool, then a dense layer. */
export function imageTower(scope: Scope, cfg: ImageTowerConfig, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  cfg.channels.forEach((ch, l) => {
    const s = scope.child(`level${l}`);
    h = silu(groupNorm(s.child('norm1'), conv(s.child('conv1'), h, ch), cfg.groups));
    h = silu(groupNorm(s.child('norm2'), conv(s.child('down'), h, ch, 3, 2), cfg.groups));
  });
  return dense(scope.child('out'), tf.mean(h, [1, 2]), cfg.width) as tf.Tensor2D;
}
