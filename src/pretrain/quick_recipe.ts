import type { DinoRecipe } from './pretrain_encoder';

/** A pretraining recipe together with how much synthetic data it reads. */
export interface SyntheticPretrainRecipe extends DinoRecipe {
  /** Unlabelled volumes per synthetic task. */
  volumes: number;
  /** Labelled volumes per task for each side of the k-NN probe. */
  probeVolumes: number;
}

/**
 * DINO for the quick scale's tiny ViT (the demo's `mst-dinov2-tiny-conv` encoder: 2 blocks, 64-d,
 * 4 heads, 4x4 patches behind a one-convolution stem) on the three synthetic tasks' slices, sized
 * to fit 20 CPU minutes on one wasm thread. DINO's recipe scaled down: global crops of 32 px and
 * local crops of 16 px (the tasks' slice sizes), a head of 256 hidden units, a 64-d bottleneck and
 * 256 prototypes for a 64-d encoder.
 */
export const QUICK_DINO_RECIPE: SyntheticPretrainRecipe = {
  volumes: 200,
  probeVolumes: 60,
  epochs: 16,
  imagesPerEpoch: 512,
  batchSize: 32,
  crops: { globalSize: 32, localSize: 16, localCrops: 4 },
  head: { outDim: 256, hiddenDim: 256, bottleneckDim: 64 },
  lr: 5e-4,
  teacherTemp: 0.04,
};

/** A recipe of seconds, for tests: the same pipeline on a handful of volumes. */
export const TINY_DINO_RECIPE: SyntheticPretrainRecipe = {
  volumes: 6,
  probeVolumes: 6,
  epochs: 2,
  imagesPerEpoch: 16,
  batchSize: 8,
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { outDim: 64, hiddenDim: 32, bottleneckDim: 16 },
  lr: 5e-4,
  teacherTemp: 0.04,
};
