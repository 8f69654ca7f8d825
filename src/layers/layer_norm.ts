import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { layerNorm } from '../ops/layer_norm';

/**
 * `torch.nn.LayerNorm` over the last axis with an explicit eps (DINOv2 uses 1e-6, PyTorch's
 * TransformerEncoderLayer 1e-5; tfjs's own default of 1e-3 is never used). Biased variance, as
 * PyTorch. Keys `weight`, `bias`. One op ({@link layerNorm}): the gradient tape keeps only its input.
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
    return layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }
}
