import type * as tf from '@tensorflow/tfjs';
import { disposeExplanation, explainVolume, type ExplainableModel, type ExplainOptions } from './explain_volume';

/** What `mst-ts predict --explain --json` adds to its JSON. */
export interface ExplainJsonFields {
  /** The method that made the maps ('attention' for MST-DINOv2, 'gradcam++' for ResNets). */
  explainMethod: string;
  /** Slice attention `[D]` (MST only), summing to 1. */
  sliceAttention?: number[];
  /** Per-slice map `[D][h][w]` (MST only): plane attention, or 2D Grad-CAM for MST-ResNet. */
  planeAttention?: number[][][];
  /** Low-resolution 3D Grad-CAM `[d][h][w]` (ResNet3D only). */
  saliency?: number[][][];
  /** Shape `[D, H, W]` of the full saliency volume (written by `mst-ts explain` as NIfTI). */
  saliencyShape: number[];
}

function nest3(data: ArrayLike<number>, [d, h, w]: number[]): number[][][] {
  const flat = Array.from(data);
  return Array.from({ length: d }, (_, i) => Array.from({ length: h }, (_, j) => flat.slice((i * h + j) * w, (i * h + j + 1) * w)));
}

/**
 * The fields `--explain` adds to `mst-ts predict --json`: `sliceAttention` `[D]`,
 * `planeAttention` `[D][h][w]` and `saliencyShape`, from one {@link explainVolume} call. The volume
 * is not disposed and nothing is left behind.
 *
 * @param volume `[D, H, W]`
 * @example
 * const json = { arch, logits, probabilities, ...(explain ? await explainJsonFields(model, volume) : {}) };
 */
export async function explainJsonFields(model: ExplainableModel, volume: tf.Tensor, options: ExplainOptions = {}): Promise<ExplainJsonFields> {
  const e = await explainVolume(model, volume, { ...options, upsample: false });
  try {
    const out: ExplainJsonFields = { explainMethod: e.method, saliencyShape: [...volume.shape] };
    if (e.sliceAttention) out.sliceAttention = Array.from(await e.sliceAttention.data());
    if (e.planeAttention) out.planeAttention = nest3(await e.planeAttention.data(), e.planeAttention.shape);
    if (e.model === 'resnet3d') out.saliency = nest3(await e.saliency.data(), e.saliency.shape);
    return out;
  } finally {
    disposeExplanation(e);
  }
}
