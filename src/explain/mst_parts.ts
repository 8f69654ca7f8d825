import type * as tf from '@tensorflow/tfjs';
import type { TransformerEncoder } from '../layers/transformer_encoder';
import type { Linear } from '../layers/linear';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import type { SliceEncoder } from '../models/slice_encoder';
import { TransformerFusion } from '../models/fusions/transformer_fusion';

/** The pieces of an MST with transformer fusion that the attributions trace, in forward order. */
export interface SliceTransformerView {
  encoder: SliceEncoder;
  /** Linear `E -> E/4` after the encoder, when the model has one. */
  bottleneck?: Linear;
  /** `[1, 1, E]`, prepended to the slice features. */
  clsToken: tf.Tensor;
  /** `D -> [D, E]` added to the slice features before the class token is prepended. */
  positionalEmbedding?: (numSlices: number) => tf.Tensor;
  /** The slice transformer: its layers and final norm. */
  transformer: TransformerEncoder;
  /** The classification head on the class token's output. */
  head: Linear;
}

/**
 * The one place that reads an MST's internals for the attributions, so a change of the model's
 * layout is one edit here. Throws for fusions without a slice transformer.
 *
 * @example
 * const { transformer, head } = sliceTransformerPartsOf(mst);
 */
export function sliceTransformerPartsOf(model: MedicalSliceTransformer): SliceTransformerView {
  const fusion = model.fusion;
  if (!(fusion instanceof TransformerFusion)) {
    throw new Error(`transformer attribution: the MST's slice fusion is ${fusion.constructor.name}; it needs a transformer fusion (a class token and a slice transformer)`);
  }
  const pe = fusion.slicePosEmb;
  return {
    encoder: model.encoder,
    bottleneck: model.bottleneck,
    clsToken: fusion.clsToken,
    positionalEmbedding: pe ? (d) => pe.forward(d) : undefined,
    transformer: fusion.transformer,
    head: model.head,
  };
}
