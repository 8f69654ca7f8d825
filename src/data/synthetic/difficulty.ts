import { auc } from '../../stats/auc';
import { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import { CropOrPad } from '../transforms/spatial';
import { makeSyntheticCase, SYNTHETIC_TASKS, type SyntheticTaskName } from './task';

/** The synthetic tasks of the paper's tables (one volume each; the multi-sequence variants are not calibrated). */
export type CalibratedTask = Extract<SyntheticTaskName, 'breast' | 'chest' | 'knee'>;

/**
 * How hard a synthetic task is, fixed by a rule that involves no model that is compared on it:
 * a reference lesion detector of a few lines per task, applied to the volume after the paper's
 * normalisation (the task's `preprocess`: z-scores for MRI, -1000..1000 HU to -1..1 for CT) and
 * the crop the networks see, scores every case by one number; its AUC over cases measures how
 * plainly the lesion is there. The detectors follow the lesions' shapes:
 *
 * - breast (an enhancing mass, several voxels wide): the maximum over the volume of the 3x3
 *   in-plane local mean (the brightest blob);
 * - chest (malignant: spicules and lobes, thin dense strands off the nodule): the maximum over the
 *   volume of a voxel minus the mean of its 5x5 in-plane neighbourhood (the sharpest thin structure);
 * - knee (a tear: a bright line through the dark meniscus): the maximum over the volume of a voxel
 *   minus the mean of its 7x7 in-plane neighbourhood (the brightest thin line on a dark background).
 *
 * The rule ({@link calibrateDifficulty}): each task's difficulty is the largest value of the grid
 * 0, 0.05, ..., 1 at which its detector still reaches {@link DETECTOR_TARGET_AUC} on
 * {@link CALIBRATION_CASES} cases; where no difficulty does, the one at which the detector does
 * best. The results at the quick scale's volumes are {@link QUICK_DIFFICULTY}.
 */

/** Where a task's cases are generated and cropped. */
export interface DetectorGeometry {
  /** Generated volume `[D, H, W]`. */
  size: Shape3;
  /** Centre crop the networks see, or none. */
  crop?: Shape3;
}

/** Neighbourhood sides of each task's detector: `[inner, outer]`; outer 0 means no background subtraction. */
const DETECTORS: Readonly<Record<CalibratedTask, [number, number]>> = {
  breast: [3, 0],
  chest: [1, 5],
  knee: [1, 7],
};

/** The AUC a task's detector must reach at its difficulty: the lesion plainly there. */
export const DETECTOR_TARGET_AUC = 0.95;

/** Cases of each calibration (half positive). */
export const CALIBRATION_CASES = 300;

/** Dataset seed of the calibration cases (used by nothing else). */
export const CALIBRATION_SEED = 7;

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { max, min } = Math;

/** Where the quick-scale reproduction generates and crops each task (`mst-ts reproduce`'s volumes). */
export const QUICK_GEOMETRY: Readonly<Record<CalibratedTask, DetectorGeometry>> = {
  breast: { size: [8, 40, 40], crop: [8, 32, 32] },
  chest: { size: [16, 64, 64], crop: [8, 16, 16] },
  knee: { size: [8, 48, 48], crop: [8, 32, 32] },
};

/**
 * The rule's result at {@link QUICK_GEOMETRY} (`calibrateDifficulty`, 300 cases of seed 7), fixed
 * once: the difficulty, the detector's AUC there, and whether it reached the target.
 */
export const QUICK_DIFFICULTY: Readonly<Record<CalibratedTask, { difficulty: number; auc: number; reached: boolean }>> = {
  breast: { difficulty: 0.3, auc: 0.953, reached: true },
  chest: { difficulty: 0.2, auc: 0.817, reached: false },
  knee: { difficulty: 0, auc: 0.714, reached: false },
};

/** Mean over a `side x side` in-plane window around every voxel (edges: the in-bounds part). */
function boxMeans(v: Float32Array, [d, h, w]: Shape3, side: number): Float32Array {
  const r = (side - 1) / 2;
  const out = new Float32Array(v.length);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let a = max(0, y - r); a <= min(h - 1, y + r); a++) {
          for (let b = max(0, x - r); b <= min(w - 1, x + r); b++) {
            s += v[(z * h + a) * w + b];
            n++;
          }
        }
        out[(z * h + y) * w + x] = s / n;
      }
    }
  }
  return out;
}

/**
 * The reference detector's score of one volume `[D, H, W]` of `task`, already normalised and
 * cropped as the networks see it (see the rule above): higher means "lesion".
 *
 * @example
 * lesionDetectorScore('breast', sample.data, sample.shape); // the brightest 3x3 mean, in z-scores
 */
export function lesionDetectorScore(task: CalibratedTask, data: Float32Array, shape: Shape3): number {
  const [inner, outer] = DETECTORS[task];
  const fg = boxMeans(data, shape, inner);
  const bg = outer ? boxMeans(data, shape, outer) : null;
  let best = -Infinity;
  for (let i = 0; i < fg.length; i++) best = max(best, bg ? fg[i] - bg[i] : fg[i]);
  return best;
}

/**
 * The AUC of the task's reference detector over `n` generated cases (labels alternating) at a
 * difficulty, after the task's preprocessing and the crop.
 *
 * @example
 * detectorAuc('breast', QUICK_GEOMETRY.breast, 0.3); // 0.953
 */
export function detectorAuc(task: CalibratedTask, geometry: DetectorGeometry, difficulty: number, n = CALIBRATION_CASES, seed = CALIBRATION_SEED): number {
  const pre = SYNTHETIC_TASKS[task].preprocess();
  const crop = geometry.crop ? new CropOrPad(geometry.crop, { centre: 'centre' }) : null;
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = makeSyntheticCase(task, { seed, index: i, size: geometry.size, difficulty });
    let s = pre.apply({ id: c.id, data: c.volume, shape: c.shape, spacing: c.spacing, label: c.label, mask: c.mask }, new Rng(0));
    if (crop) s = crop.apply(s, new Rng(0));
    labels.push(c.label);
    scores.push(lesionDetectorScore(task, s.data, s.shape));
  }
  return auc(labels, scores);
}

/**
 * The rule: the largest difficulty of the grid 0, 0.05, ..., 1 at which the task's detector
 * reaches `target` (default {@link DETECTOR_TARGET_AUC}); where no difficulty does, the one at
 * which the detector does best (the plainest lesion the generator makes). The whole grid is
 * scored: at low difficulties the AUC is not monotone (fewer confounders also mean fewer bright
 * distractors to tell apart), so the first miss does not end the search.
 *
 * @example
 * calibrateDifficulty('breast', QUICK_GEOMETRY.breast).difficulty; // 0.3
 */
export function calibrateDifficulty(task: CalibratedTask, geometry: DetectorGeometry, target = DETECTOR_TARGET_AUC, n = CALIBRATION_CASES): { difficulty: number; auc: number; reached: boolean; curve: [number, number][] } {
  const curve: [number, number][] = [];
  for (let k = 0; k <= 20; k++) curve.push([k / 20, detectorAuc(task, geometry, k / 20, n)]);
  const reaching = curve.filter(([, a]) => a >= target);
  const [difficulty, a] = reaching.length ? reaching[reaching.length - 1] : curve.reduce((b, p) => (p[1] > b[1] ? p : b));
  return { difficulty, auc: a, reached: reaching.length > 0, curve };
}
