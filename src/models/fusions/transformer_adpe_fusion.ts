import type { SlicePositionalEmbeddingKind } from '../../layers/slice_positional_embedding';
import { TransformerFusion, type TransformerFusionOptions } from './transformer_fusion';

/** Options of {@link AdpeTransformerFusion}: those of the transformer fusion, with an embedding required. */
export interface AdpeTransformerFusionOptions extends Omit<TransformerFusionOptions, 'positionalEmbedding'> {
  /** The additive slice positional embedding (default 'learned', the original's `nn.Embedding(256, E)`). */
  positionalEmbedding?: Exclude<SlicePositionalEmbeddingKind, 'none'>;
}

/**
 * The paper's "Transformer with AdPE" fusion (Table 2): the transformer fusion with an additive
 * slice positional embedding added to the slice features before the CLS token is prepended, so
 * the slice order counts. Weights as the authors' (`slice_pos_emb.weight` `[256, E]`).
 *
 * @example
 * const fusion = new AdpeTransformerFusion(384, { heads: 12 }); // learned table of 256 rows
 */
export class AdpeTransformerFusion extends TransformerFusion {
  constructor(width: number, options: AdpeTransformerFusionOptions = {}, seed = 0) {
    const kind = options.positionalEmbedding ?? 'learned';
    if (kind !== 'learned' && kind !== 'sinusoidal') {
      throw new Error(`AdpeTransformerFusion: positionalEmbedding must be 'learned' or 'sinusoidal', got ${JSON.stringify(kind)}`);
    }
    super(width, { ...options, positionalEmbedding: kind }, seed);
  }
}
