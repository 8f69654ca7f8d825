import * as tf from '@tensorflow/tfjs';
import type { DinoVisionTransformer } from '../models/dinov2';
import { attentionBlockView, blockRelevance, traceTensors, tracedBlockForward, type BlockTrace } from './attention_block_trace';
import { clsRelevanceRow, tokenShare, type AttributionMethod } from './attention_relevance';

/**
 * What flows into DINOv2's class-token feature (`encode(...).features`, `[N, E]`) from whatever
 * sits on top of it (a linear head, MST's slice transformer): the target score's gradient, and
 * for 'transformer-attribution' the LRP relevance of the feature.
 */
export interface FeatureUpstream {
  /** `[N, E]`: d(target score) / d(feature). */
  gradient: tf.Tensor;
  /** `[N, E]`: the feature's relevance (needed by 'transformer-attribution'). */
  relevance?: tf.Tensor;
}

/** Options of {@link dinov2Attribution}. */
export interface Dinov2AttributionOptions {
  /** 'transformer-attribution' (Chefer et al. CVPR 2021, default) or 'gradient-attention' (ICCV 2021). */
  method?: AttributionMethod;
  /** Images traced at once: each holds every block's activations, attention, gradient and relevance (default 1). */
  chunkSize?: number;
}

/**
 * Class-specific attention attribution of DINOv2 (Chefer et al.): per image, the class token's
 * relevance over the patches, as a map on the patch grid summing to 1. The gradient with respect
 * to each block's attention comes from `tf.grads` through an offset added to the probabilities
 * (no hooks); the feature's gradient (and relevance) come from the model on top, so the same code
 * serves DINOv2 under a linear head and inside MST. Registers are skipped.
 *
 * @param images `[N, H, W, C]`, as `encode` takes them
 * @returns `[N, rows, cols]`
 * @example
 * // DINOv2 under a linear head `w` [E, classes]: the gradient of class c is w[:, c] for every image.
 * const g = tf.tile(tf.reshape(tf.slice(w, [0, c], [-1, 1]), [1, -1]), [n, 1]);
 * const maps = dinov2Attribution(dino, images, { gradient: g }, { method: 'gradient-attention' });
 */
export function dinov2Attribution(dino: DinoVisionTransformer, images: tf.Tensor4D, upstream: FeatureUpstream, options: Dinov2AttributionOptions = {}): tf.Tensor3D {
  const method = options.method ?? 'transformer-attribution';
  if (method !== 'transformer-attribution' && method !== 'gradient-attention') {
    throw new Error(`dinov2Attribution: method must be 'transformer-attribution' or 'gradient-attention', got '${String(method)}'`);
  }
  const chunk = options.chunkSize ?? 1;
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`dinov2Attribution: chunkSize must be a positive integer, got ${chunk}`);
  const n = images.shape[0];
  const e = dino.embedDim;
  for (const [name, t] of [['gradient', upstream.gradient], ['relevance', upstream.relevance]] as const) {
    if (t && (t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== e)) {
      throw new Error(`dinov2Attribution: expected the feature ${name} [${n}, ${e}] for ${n} images, got [${t.shape.join(', ')}]`);
    }
  }
  if (method === 'transformer-attribution' && !upstream.relevance) throw new Error("dinov2Attribution: 'transformer-attribution' needs upstream.relevance (the feature's LRP relevance)");
  const views = dino.blocks.items.map(attentionBlockView);
  const maps: tf.Tensor[] = [];
  try {
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      maps.push(
        tf.tidy(() => {
          const pick = (t: tf.Tensor) => tf.slice(t, [i0, 0], [m, e]);
          const imgs = tf.slice(images, [i0, 0, 0, 0], [m, -1, -1, -1]) as tf.Tensor4D;
          const { tokens, gridSize } = dino.prepareTokens(imgs);
          const t = tokens.shape[1];
          const offsets = views.map((v) => tf.zeros([m, v.numHeads, t, t]));
          const traces: BlockTrace[] = [];
          try {
            const g = pick(upstream.gradient);
            const grads = tf.grads((...o: tf.Tensor[]) => {
              let x: tf.Tensor = tokens;
              views.forEach((v, b) => {
                const tr = tracedBlockForward(v, x, o[b]);
                traceTensors(tr).forEach((k) => tf.keep(k));
                traces.push(tr);
                x = tr.output;
              });
              const cls = tf.reshape(tf.slice(dino.norm.forward(x), [0, 0, 0], [m, 1, e]), [m, e]);
              return tf.sum(tf.mul(cls, g)) as tf.Scalar;
            })(offsets);
            let weights: tf.Tensor[];
            if (method === 'gradient-attention') weights = traces.map((tr) => tr.attention);
            else {
              // Relevance enters at the class token of the last block's output (the final norm passes it on).
              let r: tf.Tensor = tf.pad(tf.reshape(pick(upstream.relevance as tf.Tensor), [m, 1, e]), [[0, 0], [0, t - 1], [0, 0]]);
              weights = new Array<tf.Tensor>(views.length);
              for (let b = views.length - 1; b >= 0; b--) {
                const res = blockRelevance(views[b], traces[b], r);
                weights[b] = res.attention;
                r = res.input;
              }
            }
            const share = tokenShare(clsRelevanceRow(grads, weights), dino.numPrefixTokens);
            return tf.reshape(share, [m, gridSize[0], gridSize[1]]);
          } finally {
            traces.forEach((tr) => tf.dispose(traceTensors(tr)));
          }
        }),
      );
    }
  } catch (err) {
    tf.dispose(maps);
    throw err;
  }
  if (maps.length === 1) return maps[0] as tf.Tensor3D;
  const all = tf.concat(maps, 0) as tf.Tensor3D;
  tf.dispose(maps);
  return all;
}
