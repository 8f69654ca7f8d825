import { runAucTable, type AucTableResult } from './auc_table';
import { mstRecipe, type ModelRecipe } from './models';
import { PAPER_TABLE3 } from './paper_numbers';
import { reproduceContext, type ReproduceOptions } from './context';

/** The rows of Table 3: MST with five slice encoders; the first (DINOv2-S) is the P reference. */
export function table3Models(options: ReproduceOptions): ModelRecipe[] {
  const ctx = reproduceContext(options);
  const w = ctx.weights;
  return [
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2)', encoder: 'dinov2-s' }),
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 Base)', encoder: 'dinov2-b' }),
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 Registers)', encoder: 'dinov2-s-reg' }),
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 Frozen)', encoder: 'dinov2-s', freezeEncoder: true }),
    mstRecipe(ctx.scale, w, { name: 'MST (ResNet)', encoder: 'resnet2d' }),
  ];
}

/**
 * Table 3, the slice encoder: DINOv2-S, DINOv2-B, DINOv2-S with registers, DINOv2-S frozen and
 * a 2D ResNet; AUC ± std and the paired DeLong P against DINOv2-S. At quick scale the DINOv2
 * rows are from-scratch ViT stand-ins with DINOv2's structure (B: twice S's width and heads at
 * the same depth; registers: 4 register tokens), unless `encoderWeights` gives real ones.
 *
 * @example
 * const { rows } = await runTable3({ out: 'reproduce/table3', encoderWeights: { small: 'dinov2_vits14.safetensors' } });
 */
export async function runTable3(options: ReproduceOptions): Promise<AucTableResult> {
  const ctx = reproduceContext(options);
  const notes = [
    ctx.weights.small
      ? '"Frozen" keeps the pretrained DINOv2-S weights fixed and trains only the slice Transformer and head.'
      : '"Frozen" keeps the randomly initialised encoder fixed (no pretrained weights were given), so it measures what the slice Transformer makes of random features, not what the paper\'s frozen pretrained DINOv2 row measures.',
  ];
  if (ctx.weights.small && (!ctx.weights.base || !ctx.weights.registers)) {
    notes.push('Rows without their own weights file (--encoder-weights-base, --encoder-weights-registers) are trained from scratch, unlike the pretrained DINOv2-S rows: compare them with care.');
  }
  return runAucTable(
    { name: 'table3', title: "Table 3 (reproduced): classification performance as a function of the slice encoder", paper: PAPER_TABLE3, recipes: table3Models(options), notes },
    options,
  );
}
