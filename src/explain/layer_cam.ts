import * as tf from '@tensorflow/tfjs';
import { computeCam, spatialAxes, splitAt, type CamResult, type LayeredNetwork, type NamedLayerCamOptions } from './cam_utils';

/**
 * LayerCAM weights (Jiang et al. 2021, eq. 5): the positive part of the gradient, element by
 * element, so the map is `relu(sum_c relu(g_c) * A_c)`. Locations keep their own weight, which
 * gives fine maps at shallow layers too.
 *
 * @param grads channels-last gradient `[B, ...spatial, C]`
 * @returns the same shape (weights per element, for `camFromWeights`)
 * @example
 * const cam = camFromWeights(act, layerCamWeights(grad));
 */
export function layerCamWeights(grads: tf.Tensor): tf.Tensor {
  spatialAxes(grads, 'layerCamWeights');
  return tf.relu(grads);
}

/**
 * LayerCAM of a network with named layers at any layer (default `layer4`); hook-free, 2D and 3D.
 *
 * @example
 * const { cam } = layerCam(resnet3d, volumes, { layer: 'layer2' }); // [B, d, h, w]
 */
export function layerCam(net: LayeredNetwork, input: tf.Tensor, options: NamedLayerCamOptions = {}): CamResult {
  return computeCam(splitAt(net, options.layer ?? 'layer4'), input, (_a, g) => layerCamWeights(g), options);
}
