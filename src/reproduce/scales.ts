import type { Shape3 } from '../data/sample';
import type { AugmentKind } from '../data/transforms/presets';
import type { LrSchedule } from '../train/lr_schedule';
import { modelSpec, SMALL_VITS, type SmallVit } from '../models/registry';

/** How large a reproduction runs: `tiny` (tests), `quick` (CPU, minutes), `paper` (the paper's protocol, GPU). */
export type ReproduceScale = 'tiny' | 'quick' | 'paper';

/** The sizes of a from-scratch ViT slice encoder (a DINOv2 stand-in, as the registry's small MSTs). */
export type VitSize = SmallVit;

/** Everything a scale fixes: data, training protocol and the model sizes of every row. */
export interface ScaleConfig {
  name: ReproduceScale;
  /** Generated synthetic volume `[D, H, W]` per synthetic task. */
  syntheticSize: Record<'breast' | 'chest' | 'knee', Shape3>;
  /** Centre crop after generation per synthetic task (the chest task's nodule-centred crop), or none. */
  syntheticCrop: Partial<Record<'breast' | 'chest' | 'knee', Shape3>>;
  /** Volume `[D, H, W]` the networks see on the real datasets. */
  realSize: Shape3;
  /** Synthetic difficulty in [0, 1], the same for every task. */
  difficulty: number;
  /** Synthetic cases: train / validation / test (the test set's positives are half of `nTest`). */
  nTrain: number;
  nVal: number;
  nTest: number;
  /** Maximum epochs; early stopping on the validation AUC with `patience`. */
  epochs: number;
  patience: number;
  batchSize: number;
  /** Class-balanced sampling with this many cases per epoch (the authors' weighted sampler), or every case once. */
  weightedSampling: boolean;
  augment: AugmentKind;
  /** z-normalise every volume after the task's preprocessing (from-scratch models learn faster on centred input). */
  zNormalize: boolean;
  /** Bootstrap replicates of the AUC's std. */
  replicates: number;
  /** Learning-rate schedule over the epochs (warm-up, cosine decay), or a constant rate (null). */
  lrSchedule: LrSchedule | null;
  /** AdamW learning rates per model family. */
  lr: { mstDinov2: number; mstResnet: number; resnet3d: number };
  /**
   * Slice encoders. `null` ViT sizes mean the real DINOv2 variants (`dinov2_vits14`,
   * `dinov2_vitb14`, `dinov2_vits14_reg`) at the volume's slice size.
   */
  dinov2Small: VitSize | null;
  dinov2Base: VitSize | null;
  /** Register tokens of the "DINOv2 with registers" row (4, as DINOv2's `_reg` models). */
  registers: number;
  /** Stage widths of the 2D ResNet slice encoder (null: torchvision's 64-128-256-512, ResNet-34 as the authors). */
  resnet2dWidths: [number, number, number, number] | null;
  /** ResNet2D depth of the slice encoder. */
  resnet2dDepth: 18 | 34;
  /** Stage widths of the 3D ResNets (null: MONAI's 64-128-256-512). */
  resnet3dWidths: [number, number, number, number] | null;
  /** Stride of the 3D ResNets' conv1 per axis `[D, H, W]` (MONAI's default: 1). */
  resnet3dConv1Stride: [number, number, number];
  /** Positive test cases explained per task for Table 1 (the paper: 50). */
  table1Cases: number;
}

// The demo's from-scratch MST: the quick "DINOv2-S" stand-in is the registry's mst-dinov2-tiny-conv.
const QUICK_ARCH = 'mst-dinov2-tiny-conv';

function quickVit(): VitSize {
  return { ...SMALL_VITS[QUICK_ARCH] };
}

/**
 * The scales. `quick` trains from scratch on small synthetic volumes with small stand-ins of every
 * model (same structure, fewer channels), one protocol for every row: 8 epochs, batch 8, random
 * flips on every axis, one epoch of linear warm-up then cosine decay, AdamW at 1e-3 for every
 * family (the demo's rate for its from-scratch MST; for the 3D ResNets chosen over the paper's
 * 1e-4 by validation AUC on the chest task). What it learns per task, and the CPU time per table,
 * are in bench/RESULTS.md. `paper` is the paper's protocol: 224x224x32, batch 2, patience 50,
 * constant learning rates 1e-6 / 1e-5 / 1e-4, pretrained-size encoders.
 */
export function scaleConfig(name: ReproduceScale): ScaleConfig {
  if (name === 'paper') {
    return {
      name,
      syntheticSize: { breast: [32, 224, 224], chest: [32, 224, 224], knee: [32, 224, 224] },
      syntheticCrop: {},
      realSize: [32, 224, 224],
      difficulty: 0.5,
      nTrain: 800,
      nVal: 200,
      nTest: 250,
      // The paper names no epoch limit; training stops on the patience of 50 epochs.
      epochs: 1000,
      patience: 50,
      batchSize: 2,
      weightedSampling: true,
      augment: 'paper',
      zNormalize: false,
      replicates: 1000,
      lrSchedule: null,
      lr: { mstDinov2: 1e-6, mstResnet: 1e-5, resnet3d: 1e-4 },
      dinov2Small: null,
      dinov2Base: null,
      registers: 4,
      resnet2dWidths: null,
      resnet2dDepth: 34,
      resnet3dWidths: null,
      resnet3dConv1Stride: [1, 1, 1],
      table1Cases: 50,
    };
  }
  if (name === 'quick') {
    const s = quickVit();
    const lr = modelSpec(QUICK_ARCH).lr;
    return {
      name,
      // Per-task crops keep each lesion, as the paper crops per dataset. The chest nodule sits at
      // the centre: the demo's tight 8x16x16 crop. The breast mass can be anywhere in the breast
      // (rows 16-53, columns 12-60 of 64) and the knee tear anywhere along the menisci (rows
      // 23-37, columns 13-54 of 64, often at the posterior horn): the central 32x32 of a 40x40
      // breast keeps 59 of 60 masses whole (1 in part), of a 48x48 knee 57 of 60 tears (3 in
      // part), the knee generated finer for a tear over a voxel wide. 8 slices (a mass spans 1-2,
      // a tear 2-4) keep a row of the three tasks near 3 CPU minutes.
      syntheticSize: { breast: [8, 40, 40], chest: [16, 64, 64], knee: [8, 48, 48] },
      syntheticCrop: { breast: [8, 32, 32], chest: [8, 16, 16], knee: [8, 32, 32] },
      realSize: [16, 40, 40],
      difficulty: 0.25,
      nTrain: 200,
      nVal: 60,
      nTest: 100,
      epochs: 8,
      patience: 50,
      batchSize: 8,
      weightedSampling: false,
      augment: 'flip',
      zNormalize: true,
      replicates: 1000,
      lrSchedule: { warmupEpochs: 1, decay: 'cosine' },
      lr: { mstDinov2: lr, mstResnet: lr, resnet3d: 1e-3 },
      dinov2Small: s,
      // DINOv2-B is DINOv2-S with twice the width and heads at the same depth; so is the stand-in.
      dinov2Base: { ...s, embedDim: 2 * s.embedDim, heads: 2 * s.heads },
      registers: 4,
      resnet2dWidths: [8, 16, 32, 64],
      resnet2dDepth: 18,
      resnet3dWidths: [4, 8, 16, 32],
      resnet3dConv1Stride: [1, 2, 2],
      table1Cases: 50,
    };
  }
  if (name === 'tiny') {
    return {
      name,
      syntheticSize: { breast: [8, 32, 32], chest: [8, 32, 32], knee: [8, 32, 32] },
      syntheticCrop: { chest: [8, 16, 16] },
      realSize: [8, 32, 32],
      difficulty: 0.25,
      nTrain: 12,
      nVal: 8,
      nTest: 12,
      epochs: 1,
      patience: 50,
      batchSize: 4,
      weightedSampling: false,
      augment: 'none',
      zNormalize: true,
      replicates: 50,
      lrSchedule: { warmupEpochs: 1, decay: 'cosine' },
      lr: { mstDinov2: 5e-4, mstResnet: 5e-4, resnet3d: 1e-4 },
      dinov2Small: { embedDim: 16, depth: 1, heads: 2, patchSize: 8 },
      dinov2Base: { embedDim: 32, depth: 1, heads: 4, patchSize: 8 },
      registers: 4,
      resnet2dWidths: [4, 8, 8, 16],
      resnet2dDepth: 18,
      resnet3dWidths: [4, 8, 8, 16],
      resnet3dConv1Stride: [1, 2, 2],
      table1Cases: 3,
    };
  }
  throw new Error(`scaleConfig: unknown scale '${String(name)}', expected tiny, quick or paper`);
}
