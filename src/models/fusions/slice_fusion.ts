import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../../nn/module';
import type { OnnxGraphBuilder } from '../../onnx/onnx_graph';

/** Which attention maps to return: `true` is `'last'`. */
export type SliceAttentionRequest = boolean | 'none' | 'last' | 'all';

/** Normalises an attention request to 'none' | 'last' | 'all'. */
export function attentionLevel(request: SliceAttentionRequest | undefined): 'none' | 'last' | 'all' {
  if (request === undefined || request === false || request === 'none') return 'none';
  if (request === true || request === 'last') return 'last';
  if (request === 'all') return 'all';
  throw new Error(`attention: expected true, false, 'none', 'last' or 'all', got ${JSON.stringify(request)}`);
}

/** Options of {@link SliceFusion.forward}. */
export interface SliceFusionCallOptions {
  /**
   * Also return how the fusion weighs the slices ({@link SliceFusionOutput.sliceWeights}) and,
   * for attention fusions, the raw attention of the last layer ('last') or of every layer ('all').
   * Default 'none'.
   */
  attention?: 'none' | 'last' | 'all';
}

/** What a slice fusion returns; the caller disposes every tensor. */
export interface SliceFusionOutput {
  /** One feature vector per volume, `[B, outputSize]`. */
  pooled: tf.Tensor2D;
  /**
   * How much each slice counts, `[B, D]`, summing to 1 over the slices that are not padded
   * (the paper's slice attention), when asked for and when the fusion weighs slices.
   */
  sliceWeights?: tf.Tensor2D;
  /**
   * Raw attention probabilities per layer, `[B, heads, T, T]` (transformer fusions: token 0 is
   * CLS, row 0 without its first column is the CLS -> slice attention).
   */
  attentions?: tf.Tensor4D[];
}

/** What {@link SliceFusion.toOnnx} adds to a graph. */
export interface SliceFusionGraph {
  /** `[B, outputSize]`. */
  pooled: string;
  /** `[B, D]` slice weights (as {@link SliceFusionOutput.sliceWeights}). */
  sliceWeights?: string;
  /** Per-head CLS -> slice attention rows `[B, heads, D]`, where the fusion has heads. */
  headRows?: { rows: string; heads: number };
}

/** The graph context a fusion's ONNX form needs. */
export interface SliceFusionGraphContext {
  /** int64 `[2]`: the batch size and slice count of the volume input. */
  batchSlices: string;
  /** A slice count fixed by the export, if any. */
  numSlices?: number;
}

/**
 * How an MST turns its per-slice features `[B, D, E]` into one feature per volume: the paper's
 * Table 2 fusions (transformer, transformer with an additive positional embedding, linear,
 * average) implement it, and so can a researcher's own (attention-MIL, say), registered with
 * `registerFusion` so models built on it save and load by name.
 */
export interface SliceFusion extends Module {
  /** Width `E` of the slice features it takes. */
  readonly inputSize: number;
  /** Width of the pooled feature it returns (what the linear head sees). */
  readonly outputSize: number;
  /** The slice count the fusion is built for, when it fixes one ('linear'); undefined: any. */
  readonly numSlices?: number;
  /** Whether {@link forward} returns `sliceWeights` when attention is asked for. */
  readonly providesSliceAttention: boolean;
  /** Whether {@link forward} honours a padding mask (volumes with fewer slices than `D`). */
  readonly supportsPaddingMask: boolean;
  /**
   * `[B, D, E]` slice features (and an optional `[B, D]` bool mask, true = padded slice) ->
   * `{ pooled: [B, outputSize], sliceWeights?, attentions? }`.
   */
  forward(features: tf.Tensor, paddingMask?: tf.Tensor, options?: SliceFusionCallOptions): SliceFusionOutput;
  /** Writes the fusion into an ONNX graph: `features` is `[B, D, E]`. Absent: no export. */
  toOnnx?(g: OnnxGraphBuilder, features: string, context: SliceFusionGraphContext): SliceFusionGraph;
}

/** What a fusion factory receives besides its options. */
export interface FusionContext {
  /** Width `E` of the slice features. */
  inputSize: number;
  /** Seed of the fusion's initialisation. */
  seed: number;
}

/** Throws unless `mask` is a bool `[B, D]` for features `[B, D, E]`. */
export function checkPaddingMask(what: string, features: tf.Tensor, mask: tf.Tensor | undefined): void {
  if (!mask) return;
  const [B, D] = features.shape;
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== D || mask.dtype !== 'bool') {
    throw new Error(`${what}: expected a bool padding mask [${B}, ${D}] (true = padded slice), got ${mask.dtype} [${mask.shape.join(', ')}]`);
  }
}

/** Throws unless `features` is float32 `[B, D, width]` with at least one slice. */
export function checkSliceFeatures(what: string, features: tf.Tensor, width: number): void {
  if (features.rank !== 3 || features.shape[2] !== width) {
    throw new Error(`${what}: expected slice features [B, D, ${width}], got shape [${features.shape.join(', ')}]`);
  }
  if (features.dtype !== 'float32') throw new Error(`${what}: expected float32 slice features, got ${features.dtype}`);
  if (features.shape[1] === 0) throw new Error(`${what}: expected at least one slice, got shape [${features.shape.join(', ')}]`);
}
