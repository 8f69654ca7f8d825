import * as tf from '@tensorflow/tfjs';
import { computeCam, spatialAxes, type CamResult, type ComputeCamOptions, type LayeredNetwork } from './cam_utils';

/**
 * Grad-CAM++ channel weights (Chattopadhyay et al. 2018, eq. 19) in the exp-free form that
 * pytorch-grad-cam and the MST authors use: with `g` the gradient of the target score,
 * `alpha = g^2 / (2 g^2 + sum_s(A) g^3 + eps)` (a zero denominator counts as 1), and
 * `w_c = sum_s(relu(g) * alpha)`. Sums run over every spatial axis, so 2D and 3D maps work alike.
 *
 * @param activations channels-last activation `[B, ...spatial, C]`
 * @param grads its gradient, same shape
 * @param eps added to the denominator (the authors use 1e-6)
 * @returns `[B, 1, ..., 1, C]`
 * @example
 * const w = gradCamPlusPlusWeights(act, grad, 1e-6); // [1, 2, 4, 4, 512] -> [1, 1, 1, 1, 512]
 */
export function gradCamPlusPlusWeights(activations: tf.Tensor, grads: tf.Tensor, eps: number): tf.Tensor {
  if (activations.rank !== grads.rank || activations.shape.some((d, i) => d !== grads.shape[i])) {
    throw new Error(`gradCamPlusPlusWeights: activations [${activations.shape.join(', ')}] and gradients [${grads.shape.join(', ')}] must have one shape`);
  }
  const axes = spatialAxes(activations, 'gradCamPlusPlusWeights');
  return tf.tidy(() => {
    const g2 = tf.square(grads);
    const g3 = tf.mul(g2, grads);
    const sumA = tf.sum(activations, axes, true);
    const denom = tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), eps);
    const safe = tf.where(tf.notEqual(denom, 0), denom, tf.onesLike(denom));
    return tf.sum(tf.mul(tf.relu(grads), tf.div(g2, safe)), axes, true);
  });
}

/**
 * Grad-CAM++ of a network with named layers (default `layer4`); the authors' default CAM for
 * their ResNets. See {@link gradCam} for the conventions.
 *
 * @example
 * const { cam } = gradCamPlusPlus(resnet3d, volumes, { targetClass: 1 }); // [B, d, h, w]
 */
export function gradCamPlusPlus(net: LayeredNetwork, input: tf.Tensor, options: ComputeCamOptions & { layer?: string; eps?: number } = {}): CamResult {
  const layer = options.layer ?? 'layer4';
  const eps = options.eps ?? 1e-6;
  return computeCam({ head: (x) => net.forwardTo(layer, x), tail: (a) => net.forwardFrom(layer, a) }, input, (act, grad) => gradCamPlusPlusWeights(act, grad, eps), options);
}
