import * as tf from '@tensorflow/tfjs';
import { transposeFlagsAreFree } from '../kernels/wasm_matmul';

type Save = tf.GradSaveFunc;

/** Swaps the last two axes: `[..., m, n] -> [..., n, m]` (an explicit copy, no matMul flags). */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

function checkOperands(op: string, a: tf.Tensor, b: tf.Tensor, bContracted: number): void {
  const ok =
    a.rank >= 2 &&
    a.rank === b.rank &&
    a.shape.slice(0, -2).every((d, i) => d === b.shape[i]) &&
    a.shape[a.rank - 1] === b.shape[bContracted];
  if (!ok) {
    throw new Error(`${op}: expected operands of equal rank >= 2 with equal batch axes and matching inner sizes, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
}

const matMulNN = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: Save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved;
      // dA = dY B^T, dB = A^T dY: flags where they are free, else explicit transposes.
      if (transposeFlagsAreFree()) return [tf.matMul(dy, bs, false, true), tf.matMul(as, dy, true, false)];
      return [tf.matMul(dy, transposeLast2(bs)), tf.matMul(transposeLast2(as), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

const matMulNT = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: Save) => {
  save([a, b]);
  return {
    value: transposeFlagsAreFree() ? tf.matMul(a, b, false, true) : tf.matMul(a, transposeLast2(b)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved;
      // Y = A B^T: dA = dY B, dB = dY^T A.
      return [tf.matMul(dy, bs), transposeFlagsAreFree() ? tf.matMul(dy, as, true, false) : tf.matMul(transposeLast2(dy), as)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Batched `a @ b` for `a: [..., m, k]`, `b: [..., k, n]` with equal batch axes (rank 2 included),
 * as plain tfjs matMuls in both directions. tfjs's own matMul gradient uses the transpose flags,
 * which run 10-60x slower on the stock wasm kernel; this gradient transposes explicitly, or passes
 * the flags where mst-ts's wasm kernel makes them free.
 *
 * @example
 * batchMatMul(tf.ones([2, 6, 5, 4]), tf.ones([2, 6, 4, 3])).shape; // [2, 6, 5, 3]
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  checkOperands('batchMatMul', a, b, b.rank - 2);
  return matMulNN(a, b) as tf.Tensor;
}

/**
 * Batched `a @ b^T` for `a: [..., m, k]`, `b: [..., n, k]` (attention scores `q k^T`), with an
 * explicit transpose instead of matMul's `transposeB` flag, forward and backward.
 *
 * @example
 * batchMatMulTransposeB(tf.ones([2, 6, 5, 4]), tf.ones([2, 6, 7, 4])).shape; // [2, 6, 5, 7]
 */
export function batchMatMulTransposeB(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  checkOperands('batchMatMulTransposeB', a, b, b.rank - 1);
  return matMulNT(a, b) as tf.Tensor;
}
