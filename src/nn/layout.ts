import * as tf from '@tensorflow/tfjs';

/**
 * How a parameter is stored inside mst-ts compared with PyTorch. State dicts always use PyTorch's
 * layout; the tensors a layer computes with use the layout tfjs's ops want. This file is the one
 * place where the two are converted.
 *
 * - `plain`: identical.
 * - `linear`: PyTorch `[out, in]`, ours `[in, out]` (a plain matMul, no slow transpose flags).
 * - `conv2d`: PyTorch `[O, I, kh, kw]`, ours `[kh, kw, I, O]` (tfjs conv2d filter).
 * - `conv3d`: PyTorch `[O, I, kd, kh, kw]`, ours `[kd, kh, kw, I, O]` (tfjs conv3d filter).
 */
export type ParamLayout = 'plain' | 'linear' | 'conv2d' | 'conv3d';

const TO_OURS: Record<Exclude<ParamLayout, 'plain'>, number[]> = {
  linear: [1, 0],
  conv2d: [2, 3, 1, 0],
  conv3d: [2, 3, 4, 1, 0],
};

function inversePerm(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Converts a tensor in PyTorch's layout to ours. Returns a new tensor (the input is kept). */
export function torchToOurs(t: tf.Tensor, layout: ParamLayout): tf.Tensor {
  if (layout === 'plain') return t.clone();
  return tf.transpose(t, TO_OURS[layout]);
}

/** Converts a tensor in our layout to PyTorch's. Returns a new tensor (the input is kept). */
export function oursToTorch(t: tf.Tensor, layout: ParamLayout): tf.Tensor {
  if (layout === 'plain') return t.clone();
  return tf.transpose(t, inversePerm(TO_OURS[layout]));
}

/** PyTorch's shape of a parameter whose shape in our layout is `shape`. */
export function torchShape(shape: readonly number[], layout: ParamLayout): number[] {
  if (layout === 'plain') return shape.slice();
  const inv = inversePerm(TO_OURS[layout]);
  return inv.map((i) => shape[i]);
}

/** Our shape of a parameter whose PyTorch shape is `shape`. */
export function oursShape(shape: readonly number[], layout: ParamLayout): number[] {
  if (layout === 'plain') return shape.slice();
  return TO_OURS[layout].map((i) => shape[i]);
}
