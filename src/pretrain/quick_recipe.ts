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
 * to fit 20 CPU minutes on one wasm thread: 40 epochs of 1024 slices in steps of 32. DINO's recipe
 * scaled down: global crops of 80-100% of a slice at its own size (32 px breast and knee, 16 px
 * chest) and four local crops of 15-40% at half that size, no intensity jitter (the slices are
 * z-scores of tissue signal, and a lesion's brightness is its finding); a head of 256 hidden units
 * with batch norm (DINO's `use_bn_in_head`: a small encoder's early features are nearly the same
 * for every slice, and without it the teacher's targets turned uniform), a 64-d bottleneck and 256
 * prototypes; teacher temperature 0.04 throughout (DINO's default); teacher momentum from 0.99 (a
 * run of about 1300 steps needs a teacher that follows within about 100 steps, where DINO's 0.996
 * at 1000-image batches follows over hundreds of thousands).
 */
export const QUICK_DINO_RECIPE: SyntheticPretrainRecipe = {
  volumes: 200,
  probeVolumes: 150,
  epochs: 40,
  imagesPerEpoch: 1024,
  batchSize: 32,
  crops: { localCrops: 4, globalScale: [0.8, 1], jitter: 0 },
  head: { outDim: 256, hiddenDim: 256, bottleneckDim: 64, useBn: true },
  lr: 5e-4,
  momentum: 0.99,
  teacherTemp: 0.04,
  warmupTeacherTemp: 0.04,
};

/** A recipe of seconds, for tests: the same pipeline on a handful of volumes. */
export const TINY_DINO_RECIPE: SyntheticPretrainRecipe = {
  volumes: 6,
  probeVolumes: 6,
  epochs: 2,
  imagesPerEpoch: 16,
  batchSize: 8,
  crops: { localCrops: 2, globalScale: [0.8, 1], jitter: 0 },
  head: { outDim: 64, hiddenDim: 32, bottleneckDim: 16, useBn: true },
  lr: 5e-4,
  momentum: 0.99,
  teacherTemp: 0.04,
  warmupTeacherTemp: 0.04,
};
