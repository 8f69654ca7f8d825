import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';

/**
 * `torch.nn.LayerNorm` over the last axis with an explicit eps (DINOv2 uses 1e-6, PyTorch's
 * TransformerEncoderLayer 1e-5; tfjs's own default of 1e-3 is never used). Biased variance, as
 * PyTorch. Keys `weight`, `bias`.
 */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly normalizedShape: number, readonly eps: number) {
    super();
    if (!(eps > 0)) throw new Error(`LayerNorm: eps must be positive, got ${eps}`);
    this.weight = this.registerParameter('weight', tf.ones([normalizedShape]));
    this.bias = this.registerParameter('bias', tf.zeros([normalizedShape]));
  }

  /** `[..., C] -> [..., C]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const c = x.shape[x.shape.length - 1];
    if (c !== this.normalizedShape) {
      throw new Error(`LayerNorm: expected last axis of size ${this.normalizedShape}, got shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true);
      const centred = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centred), -1, true);
      const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }
}
