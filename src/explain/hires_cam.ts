import * as tf from '@tensorflow/tfjs';
import { computeCam, spatialAxes, splitAt, type CamResult, type LayeredNetwork, type NamedLayerCamOptions } from './cam_utils';

/**
 * HiResCAM weights (Draelos & Carin 2020): the gradient itself, element by element, so the map is
 * `relu(sum_c g_c * A_c)` at every location. Grad-CAM averages the gradient per channel first and
 * can light up locations that lower the score; HiResCAM's map is exactly the part of the score's
 * first-order change that each location contributes.
 *
 * @param grads channels-last gradient `[B, ...spatial, C]`
 * @returns the same shape (weights per element, for `camFromWeights`)
 * @example
 * const cam = camFromWeights(act, hiResCamWeights(grad)); // [1, 2, 4, 4, 512] -> [1, 2, 4, 4]
 */
export function hiResCamWeights(grads: tf.Tensor): tf.Tensor {
  spatialAxes(grads, 'hiResCamWeights');
  return tf.clone(grads);
}

/**
 * HiResCAM of a network with named layers (ResNet3D, ResNet2D) at any layer (default `layer4`);
 * hook-free and 2D/3D alike, with the conventions of {@link gradCam}.
 *
 * @example
 * const { cam } = hiResCam(resnet3d, volumes, { layer: 'layer3', targetClass: 1 }); // [B, d, h, w]
 */
export function hiResCam(net: LayeredNetwork, input: tf.Tensor, options: NamedLayerCamOptions = {}): CamResult {
  return computeCam(splitAt(net, options.layer ?? 'layer4'), input, (_a, g) => hiResCamWeights(g), options);
}
