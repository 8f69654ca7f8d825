import { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import type { Transform } from '../transform';
import { ClampRescale, ZNormalize } from '../transforms/intensity';
import type { ChannelSource } from '../sequences';
import { BREAST_DEPTH_RATIO, generateBreast } from './breast';
import { BREAST_DCE_SEQUENCES, generateBreastDce } from './breast_dce';
import { CHEST_DEPTH_RATIO, generateChest, type GeneratedVolume } from './chest';
import { hashSeed } from '../hash_seed';
import { generateKnee, KNEE_DEPTH_RATIO } from './knee';

/** The embedded synthetic tasks, echoing the paper's three datasets, and the two-phase breast task. */
export type SyntheticTaskName = 'breast' | 'chest' | 'knee' | 'breast-dce';

/** What a task is and how its raw volumes are preprocessed. */
export interface SyntheticTaskInfo {
  /** Task name. */
  name: SyntheticTaskName;
  /** One line on what separates the classes. */
  description: string;
  /** Class names, index = label. */
  classes: [string, string];
  /** Units of the raw voxels (`'HU'` or `'a.u.'`). */
  units: string;
  /** Physical field of view of the in-plane axes, in millimetres (sets the reported spacing). */
  fieldOfViewMm: number;
  /** Half-extent of the slice axis relative to the in-plane half-extent. */
  depthRatio: number;
  /** The paper's intensity preprocessing for this kind of scan. */
  preprocess(): Transform;
  /** Draws one raw volume and its lesion mask (and, for a multi-sequence task, its sequences). */
  generate(shape: Shape3, label: 0 | 1, rng: Rng, difficulty: number): GeneratedVolume & { sequences?: Float32Array[] };
  /** A multi-sequence task's sequence names, in the order `generate` returns them. */
  sequences?: readonly string[];
  /** A multi-sequence task's default network channels (the paper's subtraction for the two-phase breast). */
  channels?: readonly ChannelSource[];
}

/** Every synthetic task by name. */
export const SYNTHETIC_TASKS: Readonly<Record<SyntheticTaskName, SyntheticTaskInfo>> = {
  breast: {
    name: 'breast',
    description: 'breast-MRI-like subtraction image of one breast: an enhancing mass present or not',
    classes: ['no lesion', 'lesion'],
    units: 'a.u.',
    fieldOfViewMm: 157,
    depthRatio: BREAST_DEPTH_RATIO,
    preprocess: () => new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }),
    generate: generateBreast,
  },
  chest: {
    name: 'chest',
    description: 'chest-CT-like nodule-centred crop: benign smooth (sometimes calcified) vs malignant spiculated or lobulated nodule',
    classes: ['benign', 'malignant'],
    units: 'HU',
    fieldOfViewMm: 160,
    depthRatio: CHEST_DEPTH_RATIO,
    preprocess: () => new ClampRescale(-1000, 1000, -1, 1),
    generate: generateChest,
  },
  'breast-dce': {
    name: 'breast-dce',
    description: 'two-phase breast MRI (pre- and first post-contrast) of one breast: a mass that enhances only after contrast, among bright non-enhancing blobs',
    classes: ['no lesion', 'lesion'],
    units: 'a.u.',
    fieldOfViewMm: 157,
    depthRatio: BREAST_DEPTH_RATIO,
    preprocess: () => new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }),
    generate: generateBreastDce,
    sequences: BREAST_DCE_SEQUENCES,
    channels: [{ subtract: ['post', 'pre'] }],
  },
  knee: {
    name: 'knee',
    description: 'knee-MRI-like sagittal stack: meniscus intact vs torn (a bright line reaching the surface on a few slices)',
    classes: ['intact', 'tear'],
    units: 'a.u.',
    fieldOfViewMm: 100,
    depthRatio: KNEE_DEPTH_RATIO,
    preprocess: () => new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }),
    generate: generateKnee,
  },
};

/** The synthetic tasks as the CLI and reproductions name them (`synthetic-chest`). */
export const SYNTHETIC_TASK_IDS: Readonly<Record<string, SyntheticTaskName>> = {
  'synthetic-breast': 'breast',
  'synthetic-breast-dce': 'breast-dce',
  'synthetic-chest': 'chest',
  'synthetic-knee': 'knee',
};

/** Options of {@link makeSyntheticCase}. */
export interface SyntheticCaseOptions {
  /** Seed of the whole synthetic dataset; with `index` it fixes every voxel. */
  seed: number;
  /** Case number within the dataset (a non-negative integer). */
  index: number;
  /** `[D, H, W]`; default `[32, 64, 64]`. */
  size?: Shape3;
  /** In [0, 1]: more confounders, more noise and subtler lesion features; default 0.5. */
  difficulty?: number;
  /** Forces the label; by default `index % 2`, so any run of consecutive indices is balanced. */
  label?: 0 | 1;
}

/** One generated case in raw units (before the task's preprocessing). */
export interface SyntheticCase {
  /** `'<task>-<seed>-<index>'`. */
  id: string;
  /** Voxels `[D, H, W]`, row-major, in the task's `units`. */
  volume: Float32Array;
  /** Lesion mask `[D, H, W]` (1 inside); all zeros where the case has no lesion. */
  mask: Uint8Array;
  /**
   * A multi-sequence task's volumes by sequence name (`pre`, `post`), each `[D, H, W]` in the
   * task's units; `volume` is then the task's one-channel view (the subtraction).
   */
  sequences?: Record<string, Float32Array>;
  /** Class label. */
  label: 0 | 1;
  /** `[D, H, W]`. */
  shape: Shape3;
  /** Millimetres per voxel along `[D, H, W]`. */
  spacing: Shape3;
}

function checkSize(size: Shape3): void {
  const ok = size.length === 3 && size.every((n) => Number.isInteger(n) && n >= 1) && size[1] >= 8 && size[2] >= 8;
  if (!ok) throw new Error(`makeSyntheticCase: size must be [D, H, W] integers with D >= 1 and H, W >= 8, got [${size.join(', ')}]`);
}

/**
 * Generates one synthetic case on the fly: the same `(task, seed, index, size, difficulty)`
 * always gives the same bytes. Lesions sit in a small region spanning a few slices, over correlated
 * 1/f texture and noise, so a model has to find them.
 *
 * @example
 * const c = makeSyntheticCase('chest', { seed: 0, index: 3, size: [16, 64, 64] });
 * c.volume.length; // returns 65536 (16 * 64 * 64), in HU
 * c.label; // returns 1 (index 3 is odd)
 */
export function makeSyntheticCase(task: SyntheticTaskName, options: SyntheticCaseOptions): SyntheticCase {
  const info = SYNTHETIC_TASKS[task];
  if (!info) throw new Error(`makeSyntheticCase: unknown task '${task}', expected one of ${Object.keys(SYNTHETIC_TASKS).join(', ')}`);
  const { seed, index } = options;
  if (!Number.isInteger(index) || index < 0) throw new Error(`makeSyntheticCase: index must be a non-negative integer, got ${index}`);
  if (!Number.isFinite(seed)) throw new Error(`makeSyntheticCase: seed must be a finite number, got ${seed}`);
  const size: Shape3 = options.size ?? [32, 64, 64];
  checkSize(size);
  const difficulty = options.difficulty ?? 0.5;
  if (!(difficulty >= 0 && difficulty <= 1)) throw new Error(`makeSyntheticCase: difficulty must be in [0, 1], got ${difficulty}`);
  const label: 0 | 1 = options.label ?? (index % 2 === 0 ? 0 : 1);
  const rng = new Rng(hashSeed(task, seed, index));
  const { volume, mask, sequences } = info.generate(size, label, rng, difficulty);
  const out: SyntheticCase = { id: `${task}-${seed}-${index}`, volume, mask, label, shape: [size[0], size[1], size[2]], spacing: syntheticSpacing(task, size) };
  if (sequences && info.sequences) out.sequences = Object.fromEntries(info.sequences.map((name, k) => [name, sequences[k]]));
  return out;
}

/**
 * The voxel spacing in mm of a synthetic task's volumes of `size`: the task's field of view over
 * the voxel counts.
 *
 * @example
 * syntheticSpacing('chest', [16, 64, 64]); // [fov * depthRatio / 16, 2.5, 2.5]
 */
export function syntheticSpacing(task: SyntheticTaskName, size: Shape3): Shape3 {
  const info = SYNTHETIC_TASKS[task];
  if (!info) throw new Error(`syntheticSpacing: unknown task '${task}', expected one of ${Object.keys(SYNTHETIC_TASKS).join(', ')}`);
  const inPlane = info.fieldOfViewMm;
  const depth = info.fieldOfViewMm * info.depthRatio;
  return [depth / size[0], inPlane / size[1], inPlane / size[2]];
}
