import type { PreprocessingSpec } from './preprocessing';

/** The paper's datasets whose published checkpoints have a preprocessing preset. */
export type PreprocessingPreset = 'duke' | 'duke-phases' | 'lidc' | 'mrnet';

/**
 * The paper's preprocessing per dataset, for the authors' published checkpoints (which carry none):
 * DUKE subtraction images z-normalised and cropped to 224 x 224 x 32 (`duke-phases`: the same,
 * the subtraction made from the two phases of one breast, pre and post contrast); LIDC-IDRI CT clamped to
 * -1000..1000 HU, rescaled to -1..1 and cropped to 224 x 224 x 32 (around the volume's centre,
 * where the nodule of a nodule-centred crop sits); MRNet cropped to 150 x 150 x 32, resized to
 * 224 x 224 x 32 and z-normalised. Scans are read in the canonical orientation (slices first).
 *
 * @example
 * PREPROCESSING_PRESETS.lidc.steps[0]; // { op: 'clip-rescale', low: -1000, high: 1000, outLow: -1, outHigh: 1 }
 */
export const PREPROCESSING_PRESETS: Readonly<Record<PreprocessingPreset, PreprocessingSpec>> = {
  duke: {
    orientation: 'canonical',
    steps: [
      { op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 },
      { op: 'crop-or-pad', size: [32, 224, 224] },
    ],
    channels: 1,
  },
  'duke-phases': {
    orientation: 'canonical',
    steps: [
      { op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 },
      { op: 'crop-or-pad', size: [32, 224, 224] },
    ],
    channels: 1,
    inputs: { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }], registration: 'resample' },
  },
  lidc: {
    orientation: 'canonical',
    steps: [
      { op: 'clip-rescale', low: -1000, high: 1000, outLow: -1, outHigh: 1 },
      { op: 'crop-or-pad', size: [32, 224, 224] },
    ],
    channels: 1,
  },
  mrnet: {
    orientation: 'canonical',
    steps: [
      { op: 'crop-or-pad', size: [32, 150, 150] },
      { op: 'resize', size: [32, 224, 224] },
      { op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 },
    ],
    channels: 1,
  },
};
