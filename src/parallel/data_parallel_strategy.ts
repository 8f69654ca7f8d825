import { isMedicalSliceTransformer, type MedicalSliceTransformer } from '../models/medical_slice_transformer';
import type { ResNet3D } from '../models/resnet3d';
import type { GradientStrategy } from '../train/gradient_strategy';
import type { DataParallelGradients } from './data_parallel';

/**
 * The Trainer's data-parallel strategy: every batch is split over the workers of `dp` (one shard
 * of volumes each, with slice checkpointing of `chunkSize` in the workers when given, or block
 * checkpointing of a 3D ResNet for any `chunkSize` > 0). An MST's gradients equal the
 * single-thread step's where its slice encoder has no batch norm (DINOv2); batch norm (a 3D
 * ResNet, a ResNet2D slice encoder) normalises each shard by its own statistics (see
 * {@link DataParallelGradients}). The workers compute the default cross-entropy (with
 * the Trainer's class weights); a custom loss cannot run there. The caller disposes `dp`.
 *
 * @example
 * const dp = await DataParallelGradients.create(model, { workers: 2 });
 * const trainer = new Trainer({ model, train, epochs: 5, lr: 1e-3, gradients: dataParallel(dp, { chunkSize: 4 }) });
 */
export function dataParallel(dp: DataParallelGradients, options: { chunkSize?: number } = {}): GradientStrategy {
  const chunkSize = options.chunkSize ?? 0;
  if (!(Number.isInteger(chunkSize) && chunkSize >= 0)) throw new Error(`dataParallel: chunkSize must be a non-negative integer, got ${chunkSize}`);
  return {
    name: 'data-parallel',
    check(model, { defaultLoss }) {
      // Duck-typed: the model may come from another copy of the package (ESM next to CJS).
      const config = (model as unknown as Partial<ResNet3D>).modelConfig?.();
      const mst = isMedicalSliceTransformer(model);
      if (!mst && config?.model !== 'resnet3d') throw new Error(`data-parallel training applies to a MedicalSliceTransformer or a ResNet3D, not a ${model.constructor.name}`);
      if (!defaultLoss) throw new Error('the workers compute the default cross-entropy; a custom loss cannot run there');
    },
    async gradients(model, x, labels, { classWeights }) {
      return dp.gradients(model as unknown as MedicalSliceTransformer | ResNet3D, x, labels, { chunkSize, classWeights });
    },
  };
}
