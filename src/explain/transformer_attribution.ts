import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer } from '../models/dinov2';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { attentionBlockView, blockRelevance, traceTensors, tracedBlockForward, type BlockTrace } from './attention_block_trace';
import { clsRelevanceRow, tokenShare, type AttributionMethod } from './attention_relevance';
import { resolveTargets } from './cam_utils';
import { dinov2Attribution } from './dinov2_attribution';
import { sliceTransformerPartsOf, type SliceTransformerView } from './mst_parts';
import { combineSliceAndPlane } from './mst_saliency';
import { sliceImages } from './slice_images';
import { lrpAdd, lrpLinear } from './relevance_rules';

/** Options of {@link sliceTransformerAttribution} and {@link mstAttribution}. */
export interface TransformerAttributionOptions {
  /** 'transformer-attribution' (Chefer et al. CVPR 2021, default) or 'gradient-attention' (ICCV 2021). */
  method?: AttributionMethod;
  /** The class explained (default: the predicted class). */
  targetClass?: number;
}

/** What {@link sliceTransformerAttribution} returns; the caller disposes every tensor. */
export interface SliceAttribution {
  /** `[1, classes]`. */
  logits: tf.Tensor2D;
  /** `[1]` int32: the class explained. */
  targetClass: tf.Tensor1D;
  /** `[D]`: the class token's relevance over the slices, summing to 1. */
  sliceRelevance: tf.Tensor1D;
  /** `[D, F]`: the target score's gradient with respect to each slice's encoder feature. */
  featureGradient: tf.Tensor2D;
  /** `[D, F]`: each encoder feature's LRP relevance ('transformer-attribution' only). */
  featureRelevance?: tf.Tensor2D;
}

/**
 * Class-specific attribution through MST's slice transformer (Chefer et al.): from the encoder's
 * slice features `[D, F]` of one volume, the slice relevance, plus the gradient (and relevance)
 * each slice feature receives, which {@link dinov2Attribution} carries on into the encoder.
 *
 * @example
 * const s = sliceTransformerAttribution(sliceTransformerPartsOf(mst), features, { method: 'gradient-attention' });
 */
export function sliceTransformerAttribution(view: SliceTransformerView, features: tf.Tensor, options: TransformerAttributionOptions = {}): SliceAttribution {
  const method = options.method ?? 'transformer-attribution';
  if (features.rank !== 2) throw new Error(`sliceTransformerAttribution: expected the slice features of one volume [D, F], got [${features.shape.join(', ')}]`);
  const [d] = features.shape;
  const layers = view.transformer.layers.items.map(attentionBlockView);
  const t = 1 + d;
  const traces: BlockTrace[] = [];
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(x: T): T => {
    kept.push(tf.keep(x));
    return x;
  };
  let logits: tf.Tensor2D | null = null;
  let targets: tf.Tensor1D | null = null;
  try {
    return tf.tidy(() => {
      let failure: Error | null = null;
      let slices: tf.Tensor | null = null;
      let pos: tf.Tensor | null = null;
      let cls: tf.Tensor | null = null;
      const offsets = layers.map((l) => tf.zeros([1, l.numHeads, t, t]));
      const [gFeatures, ...gAttention] = tf.grads((f: tf.Tensor, ...o: tf.Tensor[]) => {
        const h = view.bottleneck ? view.bottleneck.forward(f) : f;
        slices = keep(tf.reshape(h, [1, d, -1]));
        let x: tf.Tensor = slices;
        if (view.positionalEmbedding) {
          pos = keep(tf.expandDims(view.positionalEmbedding(d), 0));
          x = tf.add(x, pos);
        }
        x = tf.concat([view.clsToken, x], 1);
        layers.forEach((l, i) => {
          const tr = tracedBlockForward(l, x, o[i]);
          traceTensors(tr).forEach((k) => keep(k));
          traces.push(tr);
          x = tr.output;
        });
        const out = view.transformer.norm ? view.transformer.norm.forward(x) : x;
        cls = keep(tf.reshape(tf.slice(out, [0, 0, 0], [1, 1, -1]), [1, -1]));
        const s = view.head.forward(cls) as tf.Tensor2D;
        try {
          targets = tf.keep(resolveTargets(options.targetClass, s));
        } catch (err) {
          failure = err as Error;
          return tf.sum(s) as tf.Scalar;
        }
        logits = tf.keep(s);
        return tf.sum(tf.mul(s, tf.oneHot(targets, s.shape[1]))) as tf.Scalar;
      })([features, ...offsets]);
      if (failure) throw failure;
      let weights: tf.Tensor[];
      let featureRelevance: tf.Tensor2D | undefined;
      if (method === 'gradient-attention') weights = traces.map((tr) => tr.attention);
      else {
        const classes = (logits as unknown as tf.Tensor2D).shape[1];
        const rCls = lrpLinear(cls as unknown as tf.Tensor, view.head.weight, tf.oneHot(targets as unknown as tf.Tensor1D, classes).toFloat());
        let r: tf.Tensor = tf.pad(tf.expandDims(rCls, 1), [[0, 0], [0, d], [0, 0]]);
        weights = new Array<tf.Tensor>(layers.length);
        for (let i = layers.length - 1; i >= 0; i--) {
          const res = blockRelevance(layers[i], traces[i], r);
          weights[i] = res.attention;
          r = res.input;
        }
        let rSlices = tf.slice(r, [0, 1, 0], [1, d, -1]);
        if (pos) rSlices = lrpAdd(slices as unknown as tf.Tensor, tf.broadcastTo(pos, rSlices.shape), rSlices)[0];
        rSlices = tf.reshape(rSlices, [d, -1]);
        featureRelevance = (view.bottleneck ? lrpLinear(features, view.bottleneck.weight, rSlices) : rSlices) as tf.Tensor2D;
      }
      const sliceRelevance = tf.reshape(tokenShare(clsRelevanceRow(gAttention, weights), 1), [d]) as tf.Tensor1D;
      const out: SliceAttribution = {
        logits: logits as unknown as tf.Tensor2D,
        targetClass: targets as unknown as tf.Tensor1D,
        sliceRelevance,
        featureGradient: gFeatures as tf.Tensor2D,
      };
      if (featureRelevance) out.featureRelevance = featureRelevance;
      return out as unknown as tf.TensorContainer;
    }) as unknown as SliceAttribution;
  } catch (err) {
    tf.dispose([logits, targets].filter((x) => x !== null) as tf.Tensor[]);
    throw err;
  } finally {
    tf.dispose(kept);
  }
}

/** Options of {@link mstAttribution}. */
export interface MstAttributionOptions extends TransformerAttributionOptions {
  /** Slices traced at once through the encoder (default 1; see {@link dinov2Attribution}). */
  chunkSize?: number;
}

/** What {@link mstAttribution} returns; the caller disposes every tensor. */
export interface MstAttribution {
  /** `[classes]`. */
  logits: tf.Tensor1D;
  /** `[1]` int32. */
  targetClass: tf.Tensor1D;
  /** `[D]`, summing to 1. */
  sliceRelevance: tf.Tensor1D;
  /** `[D, h, w]`: per slice, the class token's relevance over the patches, summing to 1. */
  planeRelevance: tf.Tensor3D;
  /** `[D, h, w]`: slice relevance times plane relevance, as the paper's slice x plane saliency. */
  saliency: tf.Tensor3D;
}

/**
 * Class-specific attribution of an MST with a DINOv2 encoder and transformer fusion (Chefer et
 * al.): relevance over the slices from the slice transformer, per-slice plane maps from DINOv2's
 * blocks driven by the gradient (and relevance) that each slice feature receives, and their
 * product, the slice x plane saliency. Evaluation mode is assumed (`model.eval()`).
 *
 * @param volume `[D, H, W]`, preprocessed as the model expects
 * @example
 * const a = mstAttribution(mst, volume, { method: 'transformer-attribution', targetClass: 1 });
 * a.saliency.shape; // [D, 16, 16]
 */
export function mstAttribution(model: MedicalSliceTransformer, volume: tf.Tensor, options: MstAttributionOptions & { chunkSize?: number } = {}): MstAttribution {
  const method = options.method ?? 'transformer-attribution';
  if (method !== 'transformer-attribution' && method !== 'gradient-attention') {
    throw new Error(`mstAttribution: method must be 'transformer-attribution' or 'gradient-attention', got '${String(method)}'`);
  }
  if ((volume.rank !== 3 && volume.rank !== 4) || volume.dtype !== 'float32') throw new Error(`mstAttribution: expected one float32 volume [D, H, W] or [D, H, W, C], got ${volume.dtype} [${volume.shape.join(', ')}]`);
  const view = sliceTransformerPartsOf(model);
  const encoder = view.encoder;
  if (!(encoder instanceof DinoVisionTransformer)) {
    throw new Error(`mstAttribution: '${method}' traces attention through the slice encoder and needs DINOv2; for a CNN slice encoder (MST-ResNet) use a CAM method (gradcam, gradcam++, ...)`);
  }
  const images = sliceImages(volume, encoder.inChannels);
  let slice: SliceAttribution | null = null;
  try {
    const features = encoder.encode(images).features;
    try {
      slice = sliceTransformerAttribution(view, features, { method, targetClass: options.targetClass });
    } finally {
      features.dispose();
    }
    const s = slice;
    const plane = dinov2Attribution(encoder, images, { gradient: s.featureGradient, relevance: s.featureRelevance }, { method, chunkSize: options.chunkSize });
    const saliency = combineSliceAndPlane(s.sliceRelevance, plane);
    const logits = tf.reshape(s.logits, [-1]) as tf.Tensor1D;
    tf.dispose([s.logits, s.featureGradient, ...(s.featureRelevance ? [s.featureRelevance] : [])]);
    return { logits, targetClass: s.targetClass, sliceRelevance: s.sliceRelevance, planeRelevance: plane, saliency };
  } catch (err) {
    if (slice) tf.dispose([slice.logits, slice.targetClass, slice.sliceRelevance, slice.featureGradient, ...(slice.featureRelevance ? [slice.featureRelevance] : [])]);
    throw err;
  } finally {
    images.dispose();
  }
}
