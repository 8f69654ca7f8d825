import { runAucTable, type AucTableResult } from './auc_table';
import { mstRecipe, resnet3dRecipe, type ModelRecipe } from './models';
import { PAPER_FIGURE2 } from './paper_numbers';
import { reproduceContext, type ReproduceOptions } from './context';

/** The two models of Figure 2: MST-DINOv2 (the P reference) and the 3D ResNet50 baseline. */
export function figure2Models(options: ReproduceOptions): ModelRecipe[] {
  const ctx = reproduceContext(options);
  return [mstRecipe(ctx.scale, ctx.weights, { name: 'MST-DINOv2' }), resnet3dRecipe(ctx.scale, 50, '3D ResNet50')];
}

/**
 * Figure 2: MST-DINOv2 against the 3D ResNet50 per task: AUC ± std, the paired DeLong P, ROC
 * curves of both models per task and their confusion matrices at the Youden threshold.
 *
 * @example
 * const { rows, files } = await runFigure2({ out: 'reproduce/figure2', tasks: ['synthetic-chest'] });
 */
export async function runFigure2(options: ReproduceOptions): Promise<AucTableResult> {
  return runAucTable(
    {
      name: 'figure2',
      title: 'Figure 2 (reproduced): MST-DINOv2 vs 3D ResNet50',
      paper: PAPER_FIGURE2,
      recipes: figure2Models(options),
      notes: ['Figures: `figure2_roc_<task>.svg/png` (ROC with ±1 std bootstrap bands and the Youden point) and `figure2_confusion_<task>_<model>.svg/png` (confusion matrix at the Youden threshold, as the authors).'],
      confusion: true,
    },
    options,
  );
}
