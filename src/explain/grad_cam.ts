import * as tf from '@tensorflow/tfjs';
import { computeCam, spatialAxes, type CamResult, type ComputeCamOptions, type LayeredNetwork } from './cam_utils';

/**
 * Grad-CAM channel weights (Selvaraju et al. 2017): the gradient averaged over every spatial axis.
 *
 * @param grads channels-last gradient `[B, ...spatial, C]`
 * @returns `[B, 1, ..., 1, C]`
 * @example
 * const w = gradCamWeights(grad); // [1, 2, 4, 4, 512] -> [1, 1, 1, 1, 512]
 */
export function gradCamWeights(grads: tf.Tensor): tf.Tensor {
  const axes = spatialAxes(grads, 'gradCamWeights');
  return tf.tidy(() => tf.mean(grads, axes, true));
}

/**
 * Grad-CAM of a network with named layers (ResNet3D, ResNet2D): the gradient of the target class
 * with respect to the layer's output (default `layer4`, the output of its last block), averaged
 * per channel, weights the channels; ReLU, then min-max normalisation as the original. 2D and 3D
 * alike. Unknown layer names and out-of-range classes throw errors naming the valid ones.
 *
 * @param input the network's input (`[B, D, H, W, 1]` for ResNet3D)
 * @example
 * const { cam, targetClass } = gradCam(resnet3d, volumes, { layer: 'layer4' }); // cam [B, d, h, w]
 * const up = trilinearUpsample(tf.expandDims(cam, -1), { size: [32, 224, 224] });
 */
export function gradCam(net: LayeredNetwork, input: tf.Tensor, options: ComputeCamOptions & { layer?: string } = {}): CamResult {
  const layer = options.layer ?? 'layer4';
  return computeCam({ head: (x) => net.forwardTo(layer, x), tail: (a) => net.forwardFrom(layer, a) }, input, (act, grad) => gradCamWeights(grad), options);
}
