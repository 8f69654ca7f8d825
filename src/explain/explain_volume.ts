import * as tf from '@tensorflow/tfjs';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { computeCamOnDevice, computeForwardCamOnDevice, type CamTensors, type LayeredNetwork } from './cam_utils';
import { eigenCamWeights } from './eigen_cam';
import { attributionPass, camWeightsFor, classifierOf, occlusionPass, scoreCamPass, type GradientCamMethod, type Pass, type PassResult } from './method_passes';
import { combineSliceAndPlane, planeAttentionMap } from './mst_saliency';
import type { OcclusionOptions } from './occlusion';
import { attentionRollout, type HeadFusion } from './rollout';
import type { ScoreCamOptions } from './score_cam';
import { smoothExplanation, type SmoothOptions } from './smooth';
import { explainMethodsFor, type ExplainMethod } from './methods';
import { sliceImages } from './slice_images';
import { trilinearUpsample } from './trilinear_upsample';
import { testTimeAugmentationAsync, type TtaPass } from './tta';

export { ATTENTION_METHODS, CNN_METHODS, EXPLAIN_METHODS, explainMethodsFor, type ExplainMethod } from './methods';

/** Options every method of {@link explainVolume} takes. */
export interface ExplainBaseOptions {
  /** Class a class-specific method explains (default: the predicted class). */
  targetClass?: number;
  /** Average over the 8 flips of the volume, maps flipped back (default false). */
  tta?: boolean;
  /**
   * SmoothGrad-style averaging over noisy copies of the volume (`true`: 8 copies, noise 0.1 of
   * the value range); the explained class is the clean volume's prediction unless given.
   */
  smooth?: boolean | SmoothOptions;
  /** Also return the map upsampled to the volume (default true). */
  upsample?: boolean;
}

/** The CAM layer and, for MST-ResNet, what the CAM differentiates. */
interface CamLayerOptions {
  /** CAM layer (default 'layer4', the output of its last block). */
  layer?: string;
  /**
   * What MST-ResNet's CAM differentiates: 'class' (default), the volume's class logit through the
   * slice transformer; 'sliceFeature', each slice's largest pooled feature, as the authors'
   * `ResNetSliceTrans` (whose ResNet backward runs before the slice transformer).
   */
  camTarget?: 'class' | 'sliceFeature';
}

/** No method: the model's default ('attention' for attention encoders, 'gradcam++', the authors' CAM, otherwise). */
export interface DefaultMethodOptions extends ExplainBaseOptions, CamLayerOptions {
  method?: undefined;
  /** Plane attention with the first patch zeroed, as the authors' code (default false). */
  zeroFirstPatch?: boolean;
  /** Head fusion of the rollout (default 'mean'). */
  headFusion?: HeadFusion;
}

/** The paper's slice x plane attention. */
export interface AttentionMethodOptions extends ExplainBaseOptions {
  method: 'attention';
  /** Plane attention with the first patch zeroed, as the authors' code (default false). */
  zeroFirstPatch?: boolean;
}

/** Attention rollout in the encoder, times the slice attention. */
export interface RolloutMethodOptions extends ExplainBaseOptions {
  method: 'rollout';
  /** Head fusion of the rollout (default 'mean'). */
  headFusion?: HeadFusion;
}

/** Class-specific attention attributions (Chefer et al. 2021). */
export interface AttributionMethodOptions extends ExplainBaseOptions {
  method: 'transformer-attribution' | 'gradient-attention';
  /** Slices traced at once through the encoder (default 1). */
  chunkSize?: number;
}

/** CAMs from the layer's gradient. */
export interface GradientCamMethodOptions extends ExplainBaseOptions, CamLayerOptions {
  method: 'gradcam' | 'gradcam++' | 'hirescam' | 'layercam' | 'xgradcam';
}

/** Eigen-CAM: class-agnostic, no gradient. */
export interface EigenCamMethodOptions extends ExplainBaseOptions {
  method: 'eigencam';
  /** CAM layer (default 'layer4'). */
  layer?: string;
}

/** Score-CAM: one masked forward pass per channel. */
export interface ScoreCamMethodOptions extends ExplainBaseOptions, ScoreCamOptions {
  method: 'scorecam';
  /** CAM layer (default 'layer4'). */
  layer?: string;
}

/** 3D occlusion sensitivity (any model). */
export interface OcclusionMethodOptions extends ExplainBaseOptions, Omit<OcclusionOptions, 'targetClass'> {
  method: 'occlusion';
}

/** Options of {@link explainVolume}: a union by `method`, so an option of another method does not compile. */
export type ExplainOptions =
  | DefaultMethodOptions
  | AttentionMethodOptions
  | RolloutMethodOptions
  | AttributionMethodOptions
  | GradientCamMethodOptions
  | EigenCamMethodOptions
  | ScoreCamMethodOptions
  | OcclusionMethodOptions;

/** Every option of every method, for reading them inside. */
type ExplainSettings = Omit<DefaultMethodOptions, 'method'> &
  Omit<AttributionMethodOptions, 'method'> &
  Omit<ScoreCamMethodOptions, 'method'> &
  Omit<OcclusionMethodOptions, 'method'> & { method?: ExplainMethod };

/** Every map of one explanation; the caller disposes it with {@link disposeExplanation}. */
export interface Explanation {
  /** The model family that was explained. */
  model: 'mst' | 'resnet3d';
  method: ExplainMethod;
  /** Class probabilities (softmax; averaged over the flips with TTA). */
  probabilities: number[];
  /** Logits of the unflipped volume (absent with TTA, where only probabilities are averaged). */
  logits?: number[];
  /** Argmax of the probabilities. */
  predictedClass: number;
  /** The class a CAM explains. */
  targetClass?: number;
  /** MST slice attention `[D]`, summing to 1. */
  sliceAttention?: tf.Tensor1D;
  /** Per-slice map `[D, h, w]`: plane attention, rollout or 2D Grad-CAM. */
  planeAttention?: tf.Tensor3D;
  /** The saliency at the map's resolution: `[D, h, w]` for MST, `[d, h, w]` for ResNet3D. */
  saliency: tf.Tensor3D;
  /** The saliency upsampled trilinearly to the volume `[D, H, W]` (`F.interpolate(size=...)`). */
  saliencyUpsampled?: tf.Tensor3D;
  /** The shape of every map above, by field name. */
  shapes: Record<string, number[]>;
}

/** A model {@link explainVolume} accepts: an MST, or a layered network such as ResNet3D. */
export type ExplainableModel = MedicalSliceTransformer | (LayeredNetwork & { readonly nInputChannels?: number });

function hasLayers(m: unknown): m is LayeredNetwork {
  const x = m as Partial<LayeredNetwork>;
  return typeof x.forwardTo === 'function' && typeof x.forwardFrom === 'function';
}

function checkTarget(c: number | undefined, classes: number): void {
  if (c !== undefined && !(Number.isInteger(c) && c >= 0 && c < classes)) {
    throw new Error(`explainVolume: targetClass ${c} is out of range: the model has ${classes} classes (0..${classes - 1})`);
  }
}

/** `[D]` slice weights of one volume, or uniform ones where the fusion does not weigh slices. */
function sliceMapOf(weights: tf.Tensor | undefined, D: number): tf.Tensor1D {
  return (weights ? tf.reshape(weights, [-1]) : tf.fill([D], 1 / D)) as tf.Tensor1D;
}

function mstAttentionPass(model: MedicalSliceTransformer, method: 'attention' | 'rollout', options: ExplainSettings): Pass {
  return (volume) => {
    const D = volume.shape[0];
    const batch = tf.expandDims(volume, 0);
    const out = model.forward(batch, { attention: method === 'rollout' ? 'all' : 'last', sliceWeights: true });
    batch.dispose();
    const { logits, sliceWeights, sliceAttention, planeAttention, encoderAttentions, gridSize, numPrefixTokens } = out;
    try {
      const maps = tf.tidy(() => {
        const slice = sliceMapOf(sliceWeights, D);
        let plane: tf.Tensor3D;
        if (method === 'rollout') plane = attentionRollout(encoderAttentions as tf.Tensor4D[], numPrefixTokens ?? 1, gridSize as [number, number], { headFusion: options.headFusion });
        else if (planeAttention && gridSize) plane = tf.squeeze(planeAttentionMap(planeAttention, gridSize, { zeroFirstPatch: options.zeroFirstPatch }), [0]) as tf.Tensor3D;
        // An encoder without attention maps: each slice counts as a whole.
        else plane = tf.ones([D, 1, 1]) as tf.Tensor3D;
        return { sliceAttention: slice, planeAttention: plane, saliency: combineSliceAndPlane(slice, plane) };
      });
      return { probabilities: tf.tidy(() => tf.softmax(tf.squeeze(logits, [0]))), logits: tf.squeeze(logits, [0]), maps };
    } finally {
      tf.dispose([logits, sliceWeights, sliceAttention, planeAttention, ...(encoderAttentions ?? [])].filter((t) => t !== undefined) as tf.Tensor[]);
    }
  };
}

function mstCamPass(model: MedicalSliceTransformer, method: GradientCamMethod, options: ExplainSettings): Pass {
  const enc = model.encoder;
  const layers = model.capabilities.camLayers;
  const layer = options.layer ?? 'layer4';
  if (!layers.includes(layer)) throw new Error(`explainVolume: the encoder ${enc.constructor.name} has no CAM layer '${layer}'; its layers: ${layers.join(', ')}`);
  const forwardTo = (x: tf.Tensor) => (enc.forwardTo as NonNullable<typeof enc.forwardTo>).call(enc, layer, x);
  const featuresFrom = (a: tf.Tensor) => (enc.featuresFrom as NonNullable<typeof enc.featuresFrom>).call(enc, layer, a);
  const mode = options.camTarget ?? 'class';
  if (mode !== 'class' && mode !== 'sliceFeature') throw new Error(`explainVolume: camTarget must be 'class' or 'sliceFeature', got '${String(mode)}'`);
  // Pooled slice features [D, F] -> volume logits [1, classes], plus the slice weights.
  const fuse = (features: tf.Tensor, weights: boolean) => model.fuseFeatures(features, 1, features.shape[0], { sliceWeights: weights });
  return (volume) => {
    const D = volume.shape[0];
    const images = sliceImages(volume, enc.inChannels);
    let features: tf.Tensor | null = null;
    let cam: CamTensors;
    try {
      const tail =
        mode === 'sliceFeature'
          ? (a: tf.Tensor) => featuresFrom(a)
          : (a: tf.Tensor) => {
              const f = featuresFrom(a);
              features = tf.keep(tf.clone(f));
              return fuse(f, false).logits;
            };
      const split = { head: forwardTo, tail };
      const targetClass = mode === 'class' ? options.targetClass : undefined;
      cam = method === 'eigencam' ? computeForwardCamOnDevice(split, images, (a) => eigenCamWeights(a), { targetClass }) : computeCamOnDevice(split, images, camWeightsFor(method), { targetClass });
    } finally {
      images.dispose();
    }
    const feats: tf.Tensor = mode === 'sliceFeature' ? cam.scores : (features as unknown as tf.Tensor);
    const fused = fuse(feats, true);
    const logits = tf.squeeze(fused.logits, [0]);
    const maps = tf.tidy(() => {
      const slice = sliceMapOf(fused.sliceWeights, D);
      const plane = cam.cam as tf.Tensor3D;
      return { sliceAttention: slice, planeAttention: tf.clone(plane), saliency: combineSliceAndPlane(slice, plane) };
    });
    const targetClass = mode === 'class' ? cam.targets : undefined;
    tf.dispose([cam.cam, cam.scores, fused.logits, feats, ...(fused.sliceWeights ? [fused.sliceWeights] : []), ...(fused.attentions ?? []), ...(targetClass ? [] : [cam.targets])]);
    return { probabilities: tf.tidy(() => tf.softmax(logits)), logits, maps, targetClass };
  };
}

function resnetCamPass(net: LayeredNetwork, method: GradientCamMethod, options: ExplainSettings): Pass {
  const layer = options.layer ?? 'layer4';
  return (volume) => {
    // [D, H, W] -> [1, D, H, W, 1]; [D, H, W, C] -> [1, D, H, W, C].
    const input = volume.rank === 4 ? tf.expandDims(volume, 0) : tf.reshape(volume, [1, ...volume.shape, 1]);
    let cam: CamTensors;
    try {
      const split = { head: (x: tf.Tensor) => net.forwardTo(layer, x), tail: (a: tf.Tensor) => net.forwardFrom(layer, a) };
      const targetClass = options.targetClass;
      cam = method === 'eigencam' ? computeForwardCamOnDevice(split, input, (a) => eigenCamWeights(a), { targetClass }) : computeCamOnDevice(split, input, camWeightsFor(method), { targetClass });
    } finally {
      input.dispose();
    }
    const saliency = tf.squeeze(cam.cam, [0]) as tf.Tensor3D;
    const logits = tf.squeeze(cam.scores, [0]);
    const probabilities = tf.softmax(logits);
    tf.dispose([cam.cam, cam.scores]);
    return { probabilities, logits, maps: { saliency }, targetClass: cam.targets };
  };
}

/**
 * Explains one volume in one call, by any {@link ExplainMethod} that applies to the model (a
 * method that does not throws naming those that do), and returns the prediction and every map
 * with its shape: slice attention (or relevance) `[D]`, the per-slice map `[D, h, w]`, the
 * saliency and its trilinear upsampling to `[D, H, W]` (occlusion maps are at the volume's
 * resolution already). With `tta`, predictions and maps are averaged over the 8 flips as the
 * authors' `main_predict`, the map being upsampled after averaging; with `smooth`, over noisy
 * copies (inside the flips when both are set). The volume is not disposed; dispose the result
 * with {@link disposeExplanation}.
 *
 * @param volume `[D, H, W]`, preprocessed as the model expects, or `[D, H, W, C]` for a model of
 *   several input channels (multi-sequence; every method but occlusion and Score-CAM)
 * @example
 * const e = await explainVolume(mst, volume, { method: 'attention' });
 * e.shapes; // { sliceAttention: [32], planeAttention: [32, 16, 16], saliency: [32, 16, 16], saliencyUpsampled: [32, 224, 224] }
 * disposeExplanation(e);
 * const r = await explainVolume(resnet3d, volume, { method: 'scorecam', layer: 'layer3', maxForwardPasses: 64 });
 */
export async function explainVolume(model: ExplainableModel, volume: tf.Tensor, options: ExplainOptions = {}): Promise<Explanation> {
  if (!(volume instanceof tf.Tensor) || (volume.rank !== 3 && volume.rank !== 4)) {
    throw new Error(`explainVolume: expected one volume [D, H, W] (or [D, H, W, C] with channels), got ${volume instanceof tf.Tensor ? `shape [${volume.shape.join(', ')}]` : typeof volume}`);
  }
  if (volume.dtype !== 'float32') throw new Error(`explainVolume: expected a float32 volume, got ${volume.dtype}`);
  const isMst = model instanceof MedicalSliceTransformer;
  if (!isMst && !hasLayers(model)) throw new Error('explainVolume: expected a MedicalSliceTransformer or a network with named layers (ResNet3D)');
  if (volume.rank === 4) {
    const want = isMst ? model.encoder.inChannels : (model.nInputChannels ?? 1);
    const c = volume.shape[3];
    if (c !== want && !(isMst && c === 1)) throw new Error(`explainVolume: expected one volume [D, H, W] or [D, H, W, ${want}] (the model's input channels), got shape [${volume.shape.join(', ')}]`);
  }
  const o = options as ExplainSettings;
  // A layered network (ResNet3D) can be cut at a named layer (forwardTo/forwardFrom): the CAM family.
  const { valid, kind } = explainMethodsFor(isMst ? model.capabilities : { planeAttention: false, sliceAttention: false, camLayers: ['forwardTo'] });
  if (isMst && valid.length === 1) {
    throw new Error(
      `explainVolume: this MST cannot be explained by its parts: its fusion ${model.fusion.constructor.name} does not weigh slices, ` +
        `its encoder ${model.encoder.constructor.name} returns no attention maps and has no CAM layers (camLayers, forwardTo, featuresFrom); only 'occlusion' applies`,
    );
  }
  const method = o.method ?? valid[0];
  if (!valid.includes(method)) {
    throw new Error(`explainVolume: method '${String(method)}' does not apply to this model, ${kind}; expected one of ${valid.map((m) => `'${m}'`).join(', ')}`);
  }
  const channels = volume.rank === 4 ? (volume.shape[3] as number) : 1;
  if (channels > 1 && (method === 'occlusion' || method === 'scorecam')) {
    throw new Error(`explainVolume: method '${method}' masks a gray volume [D, H, W]; this volume has ${channels} channels [${volume.shape.join(', ')}]: use ${valid.filter((m) => m !== 'occlusion' && m !== 'scorecam').map((m) => `'${m}'`).join(', ')}`);
  }
  const attentionEncoder = isMst && (method === 'attention' || method === 'rollout');
  if (isMst) checkTarget(o.targetClass, model.numClasses);
  const smoothing = o.smooth ? (o.smooth === true ? {} : o.smooth) : undefined;

  const modes = setEval(model as unknown as EvalSwitch);
  let probs: tf.Tensor;
  let logits: tf.Tensor | undefined;
  let maps: Record<string, tf.Tensor>;
  let target: tf.Tensor | undefined;
  try {
    // Noisy copies may change the prediction: they all explain the clean volume's class.
    const settings = smoothing && o.targetClass === undefined ? { ...o, targetClass: await predictedClass(model, volume) } : o;
    const pass = passFor(model, method, settings, isMst, attentionEncoder);
    const averaged = async (v: tf.Tensor): Promise<TtaPass> => {
      const p = await pass(v);
      p.logits.dispose();
      if (target === undefined) target = p.targetClass;
      else p.targetClass?.dispose();
      return { probabilities: p.probabilities, maps: p.maps };
    };
    const once = (v: tf.Tensor) => (smoothing ? smoothExplanation(v, averaged, smoothing) : averaged(v));
    if (o.tta || smoothing) {
      const r = o.tta ? await testTimeAugmentationAsync(volume, once) : await once(volume);
      probs = r.probabilities;
      maps = r.maps;
    } else {
      const r: PassResult = await pass(volume);
      ({ probabilities: probs, logits, maps, targetClass: target } = r);
    }
  } catch (err) {
    target?.dispose();
    throw err;
  } finally {
    restore(modes);
  }
  // Asynchronous reads only: synchronous ones throw on webgpu in Node.
  const [p, l, t] = await Promise.all([probs.data(), logits?.data(), target?.data()]);
  tf.dispose([probs, logits, target].filter((x) => x !== undefined) as tf.Tensor[]);
  const targetClass = t?.[0];
  const probabilities = Array.from(p);
  const saliency = maps.saliency as tf.Tensor3D;
  const out: Explanation = {
    model: isMst ? 'mst' : 'resnet3d',
    method,
    probabilities,
    predictedClass: probabilities.indexOf(Math.max(...probabilities)),
    saliency,
    shapes: {},
  };
  if (l) out.logits = Array.from(l);
  if (targetClass !== undefined) out.targetClass = targetClass;
  if (maps.sliceAttention) out.sliceAttention = maps.sliceAttention as tf.Tensor1D;
  if (maps.planeAttention) out.planeAttention = maps.planeAttention as tf.Tensor3D;
  if (o.upsample ?? true) out.saliencyUpsampled = trilinearUpsample(saliency, { size: volume.shape.slice(0, 3) as [number, number, number] }) as tf.Tensor3D;
  for (const k of ['sliceAttention', 'planeAttention', 'saliency', 'saliencyUpsampled'] as const) {
    const t = out[k];
    if (t) out.shapes[k] = [...t.shape];
  }
  return out;
}

function passFor(model: ExplainableModel, method: ExplainMethod, o: ExplainSettings, isMst: boolean, attentionEncoder: boolean): Pass {
  if (method === 'occlusion') {
    const { window, stride, baseline, batchSize, score, targetClass } = o;
    return occlusionPass(model as MedicalSliceTransformer | LayeredNetwork, { window, stride, baseline, batchSize, score, targetClass });
  }
  if (method === 'scorecam') {
    const { layer, batchSize, maxForwardPasses, targetClass } = o;
    return scoreCamPass(model as MedicalSliceTransformer | LayeredNetwork, { layer, batchSize, maxForwardPasses, targetClass });
  }
  if (method === 'transformer-attribution' || method === 'gradient-attention') return attributionPass(model as MedicalSliceTransformer, method, o);
  if (!isMst) return resnetCamPass(model as LayeredNetwork, method as GradientCamMethod, o);
  return attentionEncoder ? mstAttentionPass(model as MedicalSliceTransformer, method as 'attention' | 'rollout', o) : mstCamPass(model as MedicalSliceTransformer, method as GradientCamMethod, o);
}

/** The model's predicted class for the volume (one forward pass, read asynchronously). */
async function predictedClass(model: ExplainableModel, volume: tf.Tensor): Promise<number> {
  const c = tf.tidy(() => tf.argMax(tf.squeeze(classifierOf(model as MedicalSliceTransformer | LayeredNetwork)(tf.expandDims(volume, 0)), [0])));
  const [k] = await c.data();
  c.dispose();
  return k;
}

/** Frees every tensor of an {@link Explanation}. */
export function disposeExplanation(e: Explanation): void {
  tf.dispose([e.sliceAttention, e.planeAttention, e.saliency, e.saliencyUpsampled].filter((t) => t !== undefined) as tf.Tensor[]);
}

/** A model whose submodules have a training flag. */
export interface EvalSwitch {
  namedModules?: () => [string, { training: boolean }][];
}

/** Puts every submodule in evaluation mode, returning what to restore. @example const modes = setEval(model); restore(modes); */
export function setEval(model: EvalSwitch): [{ training: boolean }, boolean][] {
  if (typeof model.namedModules !== 'function') return [];
  return model.namedModules().map(([, m]) => {
    const was = m.training;
    m.training = false;
    return [m, was];
  });
}

/** Restores the training flags {@link setEval} changed. @example restore(setEval(model)); */
export function restore(modes: [{ training: boolean }, boolean][]): void {
  for (const [m, was] of modes) m.training = was;
}
