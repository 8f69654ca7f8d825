import { runAucTable, type AucTableResult } from './auc_table';
import { mstRecipe, type ModelRecipe } from './models';
import { PAPER_TABLE2 } from './paper_numbers';
import { reproduceContext, type ReproduceOptions } from './context';

/** The rows of Table 2: MST (DINOv2-S) with four slice fusions; the first is the P reference. */
export function table2Models(options: ReproduceOptions): ModelRecipe[] {
  const ctx = reproduceContext(options);
  const w = ctx.weights;
  return [
    mstRecipe(ctx.scale, w, { name: 'Transformer' }),
    // The authors' AdPE is a learned embedding per slice number (nn.Embedding).
    mstRecipe(ctx.scale, w, { name: 'Transformer (with AdPE)', positionalEmbedding: 'learned' }),
    mstRecipe(ctx.scale, w, { name: 'Linear Layer', fusion: 'linear' }),
    mstRecipe(ctx.scale, w, { name: 'Average', fusion: 'average' }),
  ];
}

/**
 * Table 2, slice fusion: Transformer, Transformer with additive positional embedding, a linear
 * layer over the concatenated slice features, and the average of the slice features, each on the
 * same DINOv2 encoder; AUC ± std and the paired DeLong P against the Transformer.
 *
 * @example
 * const { rows, markdown } = await runTable2({ out: 'reproduce/table2', scale: 'quick', seed: 0 });
 */
export async function runTable2(options: ReproduceOptions): Promise<AucTableResult> {
  return runAucTable(
    {
      name: 'table2',
      title: 'Table 2 (reproduced): classification performance as a function of slice aggregation',
      paper: PAPER_TABLE2,
      recipes: table2Models(options),
      notes: ['AdPE = additive positional embedding (learned, one vector per slice number, as the authors\' code). "Linear Layer" classifies the concatenated slice features (a linear head over D x E).'],
    },
    options,
  );
}
