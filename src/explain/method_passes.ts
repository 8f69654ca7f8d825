import * as tf from '@tensorflow/tfjs';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { camFromWeights, resolveTargets, type LayeredNetwork } from './cam_utils';
import { eigenCamWeights } from './eigen_cam';
import { gradCamWeights } from './grad_cam';
import { gradCamPlusPlusWeights } from './grad_cam_pp';
import { hiResCamWeights } from './hires_cam';
import { layerCamWeights } from './layer_cam';
import { combineSliceAndPlane } from './mst_saliency';
import { occlusionSensitivity, type OcclusionOptions } from './occlusion';
import { scoreCamChannelWeights, type ScoreCamOptions } from './score_cam';
import { mstAttribution } from './transformer_attribution';
import type { AttributionMethod } from './attention_relevance';
import type { TtaPass } from './tta';
import { xGradCamWeights } from './xgrad_cam';
import { repeatChannels } from '../ops/repeat_channels';

/** One explanation pass on one (possibly flipped or noisy) volume; `targetClass` is `[1]` int32, read later. */
export type PassResult = TtaPass & { logits: tf.Tensor; targetClass?: tf.Tensor };
export type Pass = (volume: tf.Tensor) => PassResult | Promise<PassResult>;

/** The CAM methods whose channel weights come from the layer's activation and gradient. */
export type GradientCamMethod = 'gradcam' | 'gradcam++' | 'hirescam' | 'layercam' | 'xgradcam' | 'eigencam';

/** Weights of a gradient CAM method from (activation, gradient); Eigen-CAM ignores the gradient. */
export function camWeightsFor(method: GradientCamMethod): (a: tf.Tensor, g: tf.Tensor) => tf.Tensor {
  switch (method) {
    case 'gradcam':
      return (_a, g) => gradCamWeights(g);
    case 'gradcam++':
      return (a, g) => gradCamPlusPlusWeights(a, g, 1e-6);
    case 'hirescam':
      return (_a, g) => hiResCamWeights(g);
    case 'layercam':
      return (_a, g) => layerCamWeights(g);
    case 'xgradcam':
      return (a, g) => xGradCamWeights(a, g);
    case 'eigencam':
      return (a) => eigenCamWeights(a);
    default:
      throw new Error(`explainVolume: unknown CAM method '${String(method)}'`);
  }
}

/** Volumes `[n, D, H, W]` (or `[n, D, H, W, C]`) -> logits `[n, classes]` of an MST or a 3D network. */
export function classifierOf(model: MedicalSliceTransformer | LayeredNetwork): (volumes: tf.Tensor) => tf.Tensor {
  if (model instanceof MedicalSliceTransformer) return (v) => model.forward(v).logits;
  const net = model as LayeredNetwork & { forward?: (x: tf.Tensor) => tf.Tensor };
  if (typeof net.forward !== 'function') throw new Error('explainVolume: this network has no forward(); occlusion and the faithfulness metrics need one');
  // Volumes [n, D, H, W] gain the channel axis; [n, D, H, W, C] have it.
  return (v) => tf.tidy(() => (net.forward as (x: tf.Tensor) => tf.Tensor)(v.rank === 5 ? v : tf.expandDims(v, -1)));
}

/** The MST's slice weights `[D]` (uniform where the fusion weighs none) and logits `[classes]` from one forward. */
function sliceAttentionOf(model: MedicalSliceTransformer, volume: tf.Tensor): { logits: tf.Tensor; slice: tf.Tensor1D } {
  const batch = tf.expandDims(volume, 0);
  const out = model.forward(batch, { sliceWeights: true });
  batch.dispose();
  try {
    const w = out.sliceWeights;
    const D = volume.shape[0];
    return tf.tidy(() => ({ logits: tf.squeeze(out.logits, [0]), slice: (w ? tf.reshape(w, [-1]) : tf.fill([D], 1 / D)) as tf.Tensor1D }));
  } finally {
    tf.dispose([out.logits, out.sliceWeights].filter((t) => t !== undefined) as tf.Tensor[]);
  }
}

/** Transformer attribution or gradient x attention of an MST with a DINOv2 encoder. */
export function attributionPass(model: MedicalSliceTransformer, method: AttributionMethod, options: { targetClass?: number; chunkSize?: number }): Pass {
  return (volume) => {
    const a = mstAttribution(model, volume, { method, targetClass: options.targetClass, chunkSize: options.chunkSize });
    return {
      probabilities: tf.tidy(() => tf.softmax(a.logits)),
      logits: a.logits,
      targetClass: a.targetClass,
      maps: { sliceAttention: a.sliceRelevance, planeAttention: a.planeRelevance, saliency: a.saliency },
    };
  };
}

/**
 * Score-CAM on a 3D network (input `[1, D, H, W, 1]`) or on an MST's CNN slice encoder, whose
 * per-slice activations `[D, h, w, C]` are one 3D activation of the volume: masks of each slice
 * are its own channel map, every masked volume runs through the whole MST, and the map is
 * weighted by the slice attention as the other MST CAMs.
 */
export function scoreCamPass(model: MedicalSliceTransformer | LayeredNetwork, options: ScoreCamOptions & { layer?: string; targetClass?: number }): Pass {
  const layer = options.layer ?? 'layer4';
  const isMst = model instanceof MedicalSliceTransformer;
  const net = (isMst ? model.encoder : model) as unknown as LayeredNetwork;
  if (typeof net.forwardTo !== 'function') {
    throw new Error("explainVolume: method 'scorecam' needs convolutional feature maps at a named layer (ResNet3D, MST-ResNet); this model's encoder has none");
  }
  const classify = classifierOf(model);
  return async (volume) => {
    const [d, h, w] = volume.shape;
    const input = tf.reshape(volume, [1, d, h, w, 1]);
    const kept: tf.Tensor[] = [input];
    try {
      let act: tf.Tensor;
      let logits: tf.Tensor;
      let slice: tf.Tensor1D | undefined;
      if (isMst) {
        const enc = model.encoder;
        act = tf.tidy(() => tf.expandDims(net.forwardTo(layer, repeatChannels(tf.reshape(volume, [d, h, w, 1]) as tf.Tensor4D, enc.inChannels)), 0));
        kept.push(act);
        ({ logits, slice } = sliceAttentionOf(model, volume));
        kept.push(logits, slice);
      } else {
        act = net.forwardTo(layer, input);
        kept.push(act);
        logits = tf.tidy(() => tf.squeeze(net.forwardFrom(layer, act), [0]));
        kept.push(logits);
      }
      const targets = tf.tidy(() => resolveTargets(options.targetClass, tf.expandDims(logits, 0) as tf.Tensor2D));
      kept.push(targets);
      const target = (await targets.data())[0];
      const weights = await scoreCamChannelWeights(act, input, (x) => classify(tf.squeeze(x, [4])), target, options);
      kept.push(weights);
      const maps = tf.tidy((): Record<string, tf.Tensor> => {
        const cam = tf.squeeze(camFromWeights(act, weights), [0]) as tf.Tensor3D;
        return slice ? { sliceAttention: tf.clone(slice), planeAttention: cam, saliency: combineSliceAndPlane(slice, cam) } : { saliency: cam };
      });
      tf.dispose([input, act, weights, ...(slice ? [slice] : [])]);
      return { probabilities: tf.tidy(() => tf.softmax(logits)), logits, maps, targetClass: targets };
    } catch (err) {
      tf.dispose(kept);
      throw err;
    }
  };
}

/** 3D occlusion sensitivity of any model; the map is at the volume's resolution. */
export function occlusionPass(model: MedicalSliceTransformer | LayeredNetwork, options: OcclusionOptions): Pass {
  const classify = classifierOf(model);
  return async (volume) => {
    const r = await occlusionSensitivity(classify, volume, options);
    r.sensitivity.dispose();
    const logits = tf.squeeze(r.scores, [0]);
    r.scores.dispose();
    return { probabilities: tf.tidy(() => tf.softmax(logits)), logits, maps: { saliency: r.cam }, targetClass: tf.tensor1d([r.targetClass], 'int32') };
  };
}
