import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';

/**
 * Seeded initialisers with PyTorch's distributions. They draw on the CPU from an {@link Rng}, so
 * the same seed gives the same weights on every backend.
 */

let skipDepth = 0;

/**
 * Builds a model without drawing random initial weights: inside `build`, every initialiser of
 * this file returns zeros. For models whose weights are loaded right after (`fromPretrained`),
 * where ViT-S's 22 M random draws would cost seconds for nothing.
 *
 * @example
 * const model = withoutInit(() => dinov2_vits14());
 * model.loadStateDict(weights);
 */
export function withoutInit<T>(build: () => T): T {
  skipDepth++;
  try {
    return build();
  } finally {
    skipDepth--;
  }
}

/** U(low, high) of the given shape. */
export function uniform(shape: number[], low: number, high: number, rng: Rng): tf.Tensor {
  if (skipDepth > 0) return tf.zeros(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniformRange(low, high);
  return tf.tensor(data, shape, 'float32');
}

/** N(mean, std^2) of the given shape. */
export function normal(shape: number[], std: number, rng: Rng, mean = 0): tf.Tensor {
  if (skipDepth > 0) return tf.zeros(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
  return tf.tensor(data, shape, 'float32');
}

/**
 * N(0, std^2) truncated to the absolute interval [a, b] by rejection, as timm's
 * `trunc_normal_(std=std, a=-2, b=2)` (the bounds are values, not multiples of std).
 */
export function truncNormal(shape: number[], std: number, rng: Rng, a = -2, b = 2): tf.Tensor {
  if (!(a < b) || !(std > 0)) throw new Error(`truncNormal: need std > 0 and a < b, got std=${std}, a=${a}, b=${b}`);
  if (skipDepth > 0) return tf.zeros(shape);
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z: number;
    do z = std * rng.normal();
    while (z < a || z > b);
    data[i] = z;
  }
  return tf.tensor(data, shape, 'float32');
}

/**
 * PyTorch's default for Linear and Conv weights (`kaiming_uniform_(a=sqrt(5))`) and their biases:
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function torchDefaultUniform(shape: number[], fanIn: number, rng: Rng): tf.Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound, rng);
}

/** Kaiming normal with fan-out and ReLU gain (MONAI and torchvision ResNet conv init). */
export function kaimingNormalFanOut(shape: number[], fanOut: number, rng: Rng): tf.Tensor {
  return normal(shape, Math.sqrt(2 / fanOut), rng);
}

/** Xavier (Glorot) uniform, as `nn.MultiheadAttention`'s `in_proj_weight`. */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number, rng: Rng): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -a, a, rng);
}

/** The seed source a layer uses when its options name none: deterministic, seed 0. */
export function rngOrDefault(rng?: Rng): Rng {
  return rng ?? new Rng(0);
}
