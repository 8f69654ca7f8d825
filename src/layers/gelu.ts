import * as tf from '@tensorflow/tfjs';

/**
 * Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, as PyTorch's default `nn.GELU()`. The tanh
 * approximation differs from it by up to 7e-4, too much for parity.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}
