import * as tf from '@tensorflow/tfjs';

/**
 * `[N, H, W, 1]` images with their one channel repeated `channels` times (gray to RGB, as the
 * original MST feeds a 2D encoder), as a broadcast product with ones: the same values and the same
 * gradient as `tf.tile`, whose wasm kernel runs an order of magnitude slower on slice stacks.
 *
 * @example
 * const rgb = repeatChannels(tf.zeros([32, 224, 224, 1]), 3); // [32, 224, 224, 3]
 */
export function repeatChannels(images: tf.Tensor4D, channels: number): tf.Tensor4D {
  if (images.shape[3] !== 1) throw new Error(`repeatChannels: expected images with one channel, got shape [${images.shape.join(', ')}]`);
  if (channels === 1) return images;
  return tf.tidy(() => tf.mul(images, tf.ones([1, 1, 1, channels])));
}
