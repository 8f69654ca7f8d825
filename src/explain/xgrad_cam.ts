import * as tf from '@tensorflow/tfjs';
import { computeCam, spatialAxes, splitAt, type CamResult, type LayeredNetwork, type NamedLayerCamOptions } from './cam_utils';

/**
 * XGrad-CAM channel weights (Fu et al. 2020, eq. 11): the gradient averaged with the channel's
 * own activation as weights, `w_c = sum_s (A_c(s) / sum_s' A_c(s')) g_c(s)`; a channel whose
 * activations sum to zero divides by 1 instead. Sums run over every spatial axis.
 *
 * @param activations channels-last `[B, ...spatial, C]`
 * @param grads its gradient, same shape
 * @returns `[B, 1, ..., 1, C]`
 * @example
 * const w = xGradCamWeights(act, grad); // [1, 2, 4, 4, 512] -> [1, 1, 1, 1, 512]
 */
export function xGradCamWeights(activations: tf.Tensor, grads: tf.Tensor): tf.Tensor {
  if (activations.rank !== grads.rank || activations.shape.some((d, i) => d !== grads.shape[i])) {
    throw new Error(`xGradCamWeights: activations [${activations.shape.join(', ')}] and gradients [${grads.shape.join(', ')}] must have one shape`);
  }
  const axes = spatialAxes(activations, 'xGradCamWeights');
  return tf.tidy(() => {
    const sum = tf.sum(activations, axes, true);
    const safe = tf.where(tf.notEqual(sum, 0), sum, tf.onesLike(sum));
    return tf.sum(tf.mul(grads, tf.div(activations, safe)), axes, true);
  });
}

/**
 * XGrad-CAM of a network with named layers at any layer (default `layer4`); hook-free, 2D and 3D.
 *
 * @example
 * const { cam } = xGradCam(resnet3d, volumes); // [B, d, h, w]
 */
export function xGradCam(net: LayeredNetwork, input: tf.Tensor, options: NamedLayerCamOptions = {}): CamResult {
  return computeCam(splitAt(net, options.layer ?? 'layer4'), input, (a, g) => xGradCamWeights(a, g), options);
}
