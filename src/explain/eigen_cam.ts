import * as tf from '@tensorflow/tfjs';
import { computeForwardCamOnDevice, spatialAxes, splitAt, type CamResult, type LayeredNetwork, type NamedLayerCamOptions } from './cam_utils';

/**
 * Eigen-CAM channel weights (Muhammad & Yeasin 2020): with the activation of one item as a matrix
 * `O` `[locations, C]`, its first right singular vector `v1`, so the map `O v1` is the projection
 * on the first principal direction (no gradient, no class). `v1` comes from power iteration on
 * the smaller of `O O^T` and `O^T O`, on the device; a singular vector's sign is arbitrary, so it
 * is oriented to make `sum(O v1)` non-negative.
 *
 * @param activations channels-last `[B, ...spatial, C]`
 * @param iterations power-iteration steps (default 200; the error shrinks as `(s2 / s1)^(2 k)`)
 * @returns `[B, 1, ..., 1, C]`
 * @example
 * const cam = camFromWeights(act, eigenCamWeights(act));
 */
export function eigenCamWeights(activations: tf.Tensor, iterations = 200): tf.Tensor {
  const axes = spatialAxes(activations, 'eigenCamWeights');
  if (!(Number.isInteger(iterations) && iterations >= 1)) throw new Error(`eigenCamWeights: iterations must be a positive integer, got ${iterations}`);
  const shape = activations.shape;
  const [b, c] = [shape[0], shape[shape.length - 1]];
  const s = activations.size / (b * c);
  const unit = (x: tf.Tensor): tf.Tensor => {
    const n = tf.norm(x, 'euclidean', [1, 2], true);
    return tf.div(x, tf.where(tf.greater(n, 0), n, tf.onesLike(n)));
  };
  return tf.tidy(() => {
    const o = tf.reshape(activations, [b, s, c]);
    const ot = tf.transpose(o, [0, 2, 1]);
    const small = s < c;
    const gram = small ? tf.matMul(o, ot) : tf.matMul(ot, o);
    const n = small ? s : c;
    let x = tf.fill([b, n, 1], 1 / Math.sqrt(n));
    for (let i = 0; i < iterations; i++) x = unit(tf.matMul(gram, x));
    // O^T u1 = s1 v1: the right vector from the left one.
    let v = small ? unit(tf.matMul(ot, x)) : x;
    const sign = tf.where(tf.less(tf.sum(tf.matMul(o, v), [1, 2], true), 0), tf.fill([b, 1, 1], -1), tf.ones([b, 1, 1]));
    v = tf.mul(v, sign);
    return tf.reshape(v, [b, ...axes.map(() => 1), c]);
  });
}

/**
 * Eigen-CAM of a network with named layers at any layer (default `layer4`): class-agnostic (the
 * target class is reported, not used), one forward pass, 2D and 3D alike.
 *
 * @example
 * const { cam } = await eigenCam(resnet3d, volumes, { layer: 'layer4' }); // [B, d, h, w]
 */
export async function eigenCam(net: LayeredNetwork, input: tf.Tensor, options: NamedLayerCamOptions & { iterations?: number } = {}): Promise<CamResult> {
  const { cam, scores, targets } = computeForwardCamOnDevice(splitAt(net, options.layer ?? 'layer4'), input, (a) => eigenCamWeights(a, options.iterations), options);
  const targetClass = Array.from(await targets.data());
  targets.dispose();
  return { cam, scores, targetClass };
}
