import { runAucTable, type AucTableResult } from './auc_table';
import { resnet3dRecipe, type ModelRecipe } from './models';
import { PAPER_TABLE_S1 } from './paper_numbers';
import { reproduceContext, type ReproduceOptions } from './context';

/** The rows of Table S1: 3D ResNet 50 (the P reference), 18 and 101. */
export function tableS1Models(options: ReproduceOptions): ModelRecipe[] {
  const { scale } = reproduceContext(options);
  return [resnet3dRecipe(scale, 50), resnet3dRecipe(scale, 18), resnet3dRecipe(scale, 101)];
}

/**
 * Supplementary Table S1, the 3D ResNet's depth: ResNet 50, 18 and 101 (MONAI layout); AUC ±
 * std and the paired DeLong P against ResNet50. At quick scale every stage is a sixteenth as wide
 * (4-8-16-32 channels) behind a stride-2 in-plane stem, the depths are the real ones.
 *
 * @example
 * const { rows } = await runTableS1({ out: 'reproduce/tableS1' });
 */
export async function runTableS1(options: ReproduceOptions): Promise<AucTableResult> {
  return runAucTable(
    {
      name: 'tableS1',
      title: 'Supplementary Table S1 (reproduced): classification performance as a function of the 3D ResNet variant',
      paper: PAPER_TABLE_S1,
      recipes: tableS1Models(options),
      notes: ['The paper\'s parameter counts: ResNet18 33 M, ResNet50 46 M, ResNet101 117 M (3D, MONAI).'],
    },
    options,
  );
}
