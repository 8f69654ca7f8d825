import * as tf from '@tensorflow/tfjs';
import { LAYER_NORM, LAYER_NORM_GRAD } from '../kernels/wasm_norm_gelu';

type Save = tf.GradSaveFunc;

function normalise(x: tf.Tensor, eps: number): { centred: tf.Tensor; rstd: tf.Tensor } {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return { centred, rstd: tf.rsqrt(tf.add(variance, eps)) };
}

/**
 * LayerNorm over the last axis, `(x - mean) / sqrt(var + eps) * weight + bias` (biased variance,
 * as PyTorch), as one op whose gradient tape keeps only `x` (and the weight): the gradient
 * recomputes the mean and the inverse deviation from `x`. Composed of tfjs ops, the tape kept the
 * centred input, the normalised one and every other intermediate (about 1.5 activations' worth
 * per LayerNorm). Composed of tfjs ops on most backends (forward arithmetic as before); one native
 * kernel each way on wasm (native/norm_gelu.c; equal within float32 rounding).
 *
 * @param x `[..., C]`
 * @param weight `[C]`
 * @param bias `[C]`
 * @example
 * layerNorm(tf.randomNormal([2, 257, 384]), tf.ones([384]), tf.zeros([384]), 1e-6).shape; // [2, 257, 384]
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor {
  const c = weight.shape[0];
  if (x.shape[x.rank - 1] !== c || bias.shape[0] !== c) {
    throw new Error(`layerNorm: expected x [..., ${c}] and bias [${c}] for weight [${c}], got x [${x.shape.join(', ')}] and bias [${bias.shape.join(', ')}]`);
  }
  const native = x.dtype === 'float32' && tf.getKernel(LAYER_NORM, tf.getBackend()) != null;
  const op = tf.customGrad(((xs: tf.Tensor, w: tf.Tensor1D, b: tf.Tensor1D, save: Save) => {
    save([xs, w]);
    if (native) {
      return {
        value: tf.engine().runKernel(LAYER_NORM, { x: xs, weight: w, bias: b }, { eps }) as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(LAYER_NORM_GRAD, { x: saved[0], weight: saved[1], dy }, { eps }) as tf.Tensor[],
      };
    }
    const { centred, rstd } = normalise(xs, eps);
    return {
      value: tf.add(tf.mul(tf.mul(centred, rstd), w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xk, wk] = saved;
        const n = normalise(xk, eps);
        const xhat = tf.mul(n.centred, n.rstd);
        // dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy w; the parameters sum over rows.
        const g = tf.mul(dy, wk);
        const dx = tf.mul(n.rstd, tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))));
        const rows = (t: tf.Tensor): tf.Tensor => tf.sum(tf.reshape(t, [-1, c]), 0);
        return [dx, rows(tf.mul(dy, xhat)), rows(dy)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, weight, bias) as tf.Tensor;
}
