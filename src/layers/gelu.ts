import type * as tf from '@tensorflow/tfjs';
import { geluExact } from '../ops/gelu';

/**
 * Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, as PyTorch's default `nn.GELU()`. The tanh
 * approximation differs from it by up to 7e-4, too much for parity. One op ({@link geluExact}):
 * the gradient tape keeps only its input.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluExact(x);
}
