import * as tf from '@tensorflow/tfjs';
import { GELU, GELU_GRAD } from '../kernels/wasm_norm_gelu';

type Save = tf.GradSaveFunc;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (PyTorch's default `nn.GELU()`), as one op whose
 * gradient tape keeps only `x`: `d/dx = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)`.
 * Composed of tfjs ops, the tape kept three activations of the hidden width (x, x / 2 and the erf
 * term). Composed of tfjs ops on most backends (forward arithmetic as before); one native kernel
 * each way on wasm (native/norm_gelu.c; equal within float32 rounding).
 *
 * @example
 * geluExact(tf.tensor1d([-1, 0, 1])).arraySync(); // [-0.1587, 0, 0.8413]
 */
export function geluExact(x: tf.Tensor): tf.Tensor {
  const native = x.dtype === 'float32' && tf.getKernel(GELU, tf.getBackend()) != null;
  const op = tf.customGrad(((xs: tf.Tensor, save: Save) => {
    save([xs]);
    if (native) {
      return {
        value: tf.engine().runKernel(GELU, { x: xs }) as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(GELU_GRAD, { x: saved[0], dy }) as tf.Tensor,
      };
    }
    return {
      value: tf.mul(tf.mul(xs, 0.5), tf.add(tf.erf(tf.mul(xs, Math.SQRT1_2)), 1)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xk] = saved;
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(xk, Math.SQRT1_2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(xk), -0.5)), INV_SQRT_2PI);
        return tf.mul(dy, tf.add(cdf, tf.mul(xk, pdf)));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}
