import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault, torchDefaultUniform } from '../nn/init';
import { linear } from '../ops/linear';
import type { Rng } from '../utils/rng';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Seed source for PyTorch's default initialisation. */
  rng?: Rng;
}

/**
 * `torch.nn.Linear`: `y = x W^T + b` over the last axis. State-dict keys `weight` `[out, in]`
 * and `bias` `[out]`; the weight is held as `[in, out]` internally.
 *
 * @example
 * const fc = new Linear(384, 2);
 * fc.forward(tf.zeros([5, 384])).shape; // [5, 2]
 */
export class Linear extends Module {
  /** `[in, out]` (PyTorch's `[out, in]` in the state dict). */
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const rng = rngOrDefault(options.rng);
    this.weight = this.registerParameter('weight', torchDefaultUniform([inFeatures, outFeatures], inFeatures, rng), 'linear');
    if (options.bias ?? true) this.bias = this.registerParameter('bias', torchDefaultUniform([outFeatures], inFeatures, rng));
  }

  /** `[..., in] -> [..., out]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.shape.length - 1];
    if (x.rank < 1 || last !== this.inFeatures) {
      throw new Error(`Linear: expected last axis of size ${this.inFeatures}, got shape [${x.shape.join(', ')}]`);
    }
    return linear(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
  }
}
