import * as tf from '@tensorflow/tfjs';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { computeCamOnDevice, type CamTensors, type LayeredNetwork } from './cam_utils';
import { gradCamWeights } from './grad_cam';
import { gradCamPlusPlusWeights } from './grad_cam_pp';
import { combineSliceAndPlane, planeAttentionMap } from './mst_saliency';
import { attentionRollout, type HeadFusion } from './rollout';
import { trilinearUpsample } from './trilinear_upsample';
import { testTimeAugmentation, type TtaPass } from './tta';

/** How a volume is explained. */
export type ExplainMethod = 'attention' | 'rollout' | 'gradcam' | 'gradcam++';

/** Options of {@link explainVolume}. */
export interface ExplainOptions {
  /**
   * 'attention' (the paper's map) or 'rollout' for an MST with an attention encoder (DINOv2);
   * 'gradcam' or 'gradcam++' for ResNet3D and MST-ResNet. Default: 'attention' for attention
   * encoders, 'gradcam++' (the authors' CAM) otherwise.
   */
  method?: ExplainMethod;
  /** Plane attention with the first patch zeroed, as the authors' code (default false). */
  zeroFirstPatch?: boolean;
  /** Head fusion of the rollout (default 'mean'). */
  headFusion?: HeadFusion;
  /** CAM layer (default 'layer4', the output of its last block). */
  layer?: string;
  /** Class the CAM explains (default: the predicted class). */
  targetClass?: number;
  /**
   * What MST-ResNet's CAM differentiates: 'class' (default), the volume's class logit through the
   * slice transformer; 'sliceFeature', each slice's largest pooled feature, as the authors'
   * `ResNetSliceTrans` (whose ResNet backward runs before the slice transformer).
   */
  camTarget?: 'class' | 'sliceFeature';
  /** Average over the 8 flips of the volume, maps flipped back (default false). */
  tta?: boolean;
  /** Also return the map upsampled to the volume (default true). */
  upsample?: boolean;
}

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

/**
 * The methods that explain an MST, its default first: 'attention' (and 'rollout') where the
 * encoder has attention maps, Grad-CAM(++) where it has CAM layers, and 'attention' from the
 * fusion's slice weights alone otherwise.
 */
function mstMethods(model: MedicalSliceTransformer): ExplainMethod[] {
  const caps = model.capabilities;
  const out: ExplainMethod[] = [];
  if (caps.planeAttention) out.push('attention', 'rollout');
  if (caps.camLayers.length) out.push('gradcam++', 'gradcam');
  if (!caps.planeAttention && caps.sliceAttention) out.push('attention');
  return out;
}

function hasLayers(m: unknown): m is LayeredNetwork {
  const x = m as Partial<LayeredNetwork>;
  return typeof x.forwardTo === 'function' && typeof x.forwardFrom === 'function';
}

function checkTarget(c: number | undefined, classes: number): void {
  if (c !== undefined && !(Number.isInteger(c) && c >= 0 && c < classes)) {
    throw new Error(`explainVolume: targetClass ${c} is out of range: the model has ${classes} classes (0..${classes - 1})`);
  }
}

/** One pass of the explanation on one (possibly flipped) volume `[D, H, W]`; `targetClass` is `[1]` int32, read later. */
type Pass = (volume: tf.Tensor) => TtaPass & { logits: tf.Tensor; targetClass?: tf.Tensor };

/** `[D]` slice weights of one volume, or uniform ones where the fusion does not weigh slices. */
function sliceMapOf(weights: tf.Tensor | undefined, D: number): tf.Tensor1D {
  return (weights ? tf.reshape(weights, [-1]) : tf.fill([D], 1 / D)) as tf.Tensor1D;
}

function mstAttentionPass(model: MedicalSliceTransformer, method: 'attention' | 'rollout', options: ExplainOptions): Pass {
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

function camWeightsOf(method: 'gradcam' | 'gradcam++'): (a: tf.Tensor, g: tf.Tensor) => tf.Tensor {
  return method === 'gradcam' ? (_a, g) => gradCamWeights(g) : (a, g) => gradCamPlusPlusWeights(a, g, 1e-6);
}

function mstCamPass(model: MedicalSliceTransformer, method: 'gradcam' | 'gradcam++', options: ExplainOptions): Pass {
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
    const [D, H, W] = volume.shape;
    const images = tf.tidy(() => tf.tile(tf.reshape(volume, [D, H, W, 1]), [1, 1, 1, enc.inChannels]));
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
      cam = computeCamOnDevice({ head: forwardTo, tail }, images, camWeightsOf(method), {
        targetClass: mode === 'class' ? options.targetClass : undefined,
      });
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

function resnetCamPass(net: LayeredNetwork, method: 'gradcam' | 'gradcam++', options: ExplainOptions): Pass {
  const layer = options.layer ?? 'layer4';
  return (volume) => {
    const input = tf.reshape(volume, [1, ...volume.shape, 1]);
    let cam: CamTensors;
    try {
      cam = computeCamOnDevice({ head: (x) => net.forwardTo(layer, x), tail: (a) => net.forwardFrom(layer, a) }, input, camWeightsOf(method), {
        targetClass: options.targetClass,
      });
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
 * Explains one volume in one call: runs the model with attention (MST with DINOv2) or with
 * gradients (ResNet3D, MST-ResNet) and returns the prediction and every map with its shape:
 * slice attention `[D]`, the per-slice map `[D, h, w]`, the saliency and its trilinear upsampling
 * to `[D, H, W]`. With `tta`, predictions and maps are averaged over the 8 flips as the authors'
 * `main_predict`, the map being upsampled after averaging. The volume is not disposed; dispose
 * the result with {@link disposeExplanation}.
 *
 * @param volume `[D, H, W]`, preprocessed as the model expects
 * @example
 * const e = await explainVolume(mst, volume, { method: 'attention' });
 * e.shapes; // { sliceAttention: [32], planeAttention: [32, 16, 16], saliency: [32, 16, 16], saliencyUpsampled: [32, 224, 224] }
 * disposeExplanation(e);
 */
export async function explainVolume(model: ExplainableModel, volume: tf.Tensor, options: ExplainOptions = {}): Promise<Explanation> {
  if (!(volume instanceof tf.Tensor) || volume.rank !== 3) {
    throw new Error(`explainVolume: expected one volume [D, H, W], got ${volume instanceof tf.Tensor ? `shape [${volume.shape.join(', ')}]` : typeof volume}`);
  }
  if (volume.dtype !== 'float32') throw new Error(`explainVolume: expected a float32 volume, got ${volume.dtype}`);
  const isMst = model instanceof MedicalSliceTransformer;
  if (!isMst && !hasLayers(model)) throw new Error('explainVolume: expected a MedicalSliceTransformer or a network with named layers (ResNet3D)');
  const valid = isMst ? mstMethods(model) : (['gradcam++', 'gradcam'] as ExplainMethod[]);
  if (valid.length === 0) {
    throw new Error(
      `explainVolume: this MST cannot be explained: its fusion ${(model as MedicalSliceTransformer).fusion.constructor.name} does not weigh slices, ` +
        `its encoder ${(model as MedicalSliceTransformer).encoder.constructor.name} returns no attention maps and has no CAM layers (camLayers, forwardTo, featuresFrom)`,
    );
  }
  const method = options.method ?? valid[0];
  if (!valid.includes(method)) {
    throw new Error(`explainVolume: method '${String(method)}' does not apply to this model; expected ${valid.map((m) => `'${m}'`).join(' or ')}`);
  }
  if (isMst) checkTarget(options.targetClass, model.numClasses);
  const pass: Pass = isMst
    ? method === 'attention' || method === 'rollout'
      ? mstAttentionPass(model, method, options)
      : mstCamPass(model, method, options)
    : resnetCamPass(model as LayeredNetwork, method as 'gradcam' | 'gradcam++', options);

  const modes = setEval(model as unknown as EvalSwitch);
  let probs: tf.Tensor;
  let logits: tf.Tensor | undefined;
  let maps: Record<string, tf.Tensor>;
  let target: tf.Tensor | undefined;
  try {
    if (options.tta) {
      const r = testTimeAugmentation(volume, (v) => {
        const p = pass(v);
        p.logits.dispose();
        if (target === undefined) target = p.targetClass;
        else p.targetClass?.dispose();
        return p;
      });
      probs = r.probabilities;
      maps = r.maps;
    } else {
      const r = pass(volume);
      ({ probabilities: probs, logits, maps, targetClass: target } = r);
    }
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
  if (options.upsample ?? true) out.saliencyUpsampled = trilinearUpsample(saliency, { size: volume.shape as [number, number, number] }) as tf.Tensor3D;
  for (const k of ['sliceAttention', 'planeAttention', 'saliency', 'saliencyUpsampled'] as const) {
    const t = out[k];
    if (t) out.shapes[k] = [...t.shape];
  }
  return out;
}

/** Frees every tensor of an {@link Explanation}. */
export function disposeExplanation(e: Explanation): void {
  tf.dispose([e.sliceAttention, e.planeAttention, e.saliency, e.saliencyUpsampled].filter((t) => t !== undefined) as tf.Tensor[]);
}

interface EvalSwitch {
  namedModules?: () => [string, { training: boolean }][];
}

/** Puts every submodule in evaluation mode, returning what to restore. */
function setEval(model: EvalSwitch): [{ training: boolean }, boolean][] {
  if (typeof model.namedModules !== 'function') return [];
  return model.namedModules().map(([, m]) => {
    const was = m.training;
    m.training = false;
    return [m, was];
  });
}

function restore(modes: [{ training: boolean }, boolean][]): void {
  for (const [m, was] of modes) m.training = was;
}
