import { runAucTable, type AucTableResult } from './auc_table';
import { dinoFooter, dinoMstRecipe, dinoPretraining, type DinoPretraining } from './dino_pretraining';
import { mstRecipe, type ModelRecipe } from './models';
import { PAPER_TABLE3 } from './paper_numbers';
import { reproduceContext, type ReproduceOptions } from './context';

/**
 * The rows of Table 3: MST with five slice encoders; the first (DINOv2-S) is the P reference.
 * With a DINO-pretrained stand-in (`dino`, the quick scale) the DINOv2-S and frozen rows start from
 * it and a sixth row trains the same stand-in from scratch.
 */
export function table3Models(options: ReproduceOptions, dino: DinoPretraining | null = null): ModelRecipe[] {
  const ctx = reproduceContext(options);
  const w = ctx.weights;
  const small = (o: Parameters<typeof mstRecipe>[2]): ModelRecipe => (dino ? dinoMstRecipe(ctx, dino, o) : mstRecipe(ctx.scale, w, o));
  const rows = [
    small({ name: 'MST (DINOv2)', encoder: 'dinov2-s' }),
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 Base)', encoder: 'dinov2-b' }),
    mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 Registers)', encoder: 'dinov2-s-reg' }),
    small({ name: 'MST (DINOv2 Frozen)', encoder: 'dinov2-s', freezeEncoder: true }),
    mstRecipe(ctx.scale, w, { name: 'MST (ResNet)', encoder: 'resnet2d' }),
  ];
  if (dino) rows.push(mstRecipe(ctx.scale, w, { name: 'MST (DINOv2 from scratch)', encoder: 'dinov2-s' }));
  return rows;
}

/**
 * Table 3, the slice encoder: DINOv2-S, DINOv2-B, DINOv2-S with registers, DINOv2-S frozen and
 * a 2D ResNet; AUC ± std and the paired DeLong P against DINOv2-S. At quick scale the DINOv2
 * rows are ViT stand-ins with DINOv2's structure (B: twice S's width and heads at the same depth;
 * registers: 4 register tokens); the DINOv2-S stand-in is first pretrained with DINO on the
 * synthetic tasks' unlabelled slices (once per seed, cached; see `dinoPretraining`), which the
 * DINOv2-S row fine-tunes and the frozen row keeps fixed, beside a from-scratch DINOv2-S row.
 * Real DINOv2 weights (`encoderWeights`) replace the pretraining.
 *
 * @example
 * const { rows } = await runTable3({ out: 'reproduce/table3', encoderWeights: { small: 'dinov2_vits14.safetensors' } });
 */
export async function runTable3(options: ReproduceOptions): Promise<AucTableResult> {
  const ctx = reproduceContext(options);
  const dino = await dinoPretraining(options);
  const notes = [
    ctx.weights.small || dino
      ? `"Frozen" keeps the pretrained DINOv2-S${dino ? ' stand-in' : ''} weights fixed and trains only the slice Transformer and head.`
      : '"Frozen" keeps the randomly initialised encoder fixed (no pretrained weights were given), so it measures what the slice Transformer makes of random features, not what the paper\'s frozen pretrained DINOv2 row measures.',
  ];
  if (dino) notes.push(dinoFooter(dino), '"MST (DINOv2 from scratch)" is the same stand-in without pretraining (not in the paper); DINOv2 Base and Registers are trained from scratch.');
  if (ctx.weights.small && (!ctx.weights.base || !ctx.weights.registers)) {
    notes.push('Rows without their own weights file (--encoder-weights-base, --encoder-weights-registers) are trained from scratch, unlike the pretrained DINOv2-S rows: compare them with care.');
  }
  return runAucTable(
    { name: 'table3', title: "Table 3 (reproduced): classification performance as a function of the slice encoder", paper: PAPER_TABLE3, recipes: table3Models(options, dino), notes },
    options,
  );
}
