import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import { BREAST_DEPTH_RATIO, generateBreast, type BreastOptions } from './breast';
import type { GeneratedVolume } from './chest';
import { addNoise, blend, Grid, paintBlob, type Vec3 } from './grid';
import { powerLawNoise } from './noise';

/** The phases of the two-phase breast task, in order: pre-contrast, then first post-contrast. */
export const BREAST_DCE_SEQUENCES = ['pre', 'post'] as const;

/**
 * The enhancement of the two-phase task: masses larger and brighter than the paper-like `breast`
 * task's and fewer vessels, so a small MST learns it on a CPU in minutes; the task's difficulty
 * lies in the non-enhancing blobs instead.
 */
const DCE_BREAST: BreastOptions = { massRadius: [0.14, 0.22], massPeak: [120, 160], vessels: [1, 2] };

/** A generated case of several sequences on one grid (`sequences` in the task's order). */
export interface GeneratedSequences extends GeneratedVolume {
  /** One volume per sequence `[D, H, W]`, in the task's sequence order. */
  sequences: Float32Array[];
}

/**
 * A two-phase dynamic contrast-enhanced breast MRI of one breast: a T1-weighted pre-contrast
 * image (fat bright, fibroglandular tissue darker, chest-wall muscle in between) and the first
 * post-contrast image, the pre-contrast one plus the enhancement of {@link generateBreast}
 * (background parenchymal enhancement, vessels, benign foci, and for label 1 an enhancing mass).
 * Both phases of both classes hold bright non-enhancing blobs (fat lobules, T1-bright cysts) as
 * bright as a mass after contrast, so the post-contrast image alone confounds them with a lesion
 * while the subtraction (post minus pre) removes them: the lesion enhances only post-contrast.
 * Each phase has its own noise. `volume` is the subtraction, the paper's one-channel input.
 *
 * @param difficulty in [0, 1]: more background enhancement, foci and noise, fainter masses.
 */
export function generateBreastDce(shape: Shape3, label: 0 | 1, rng: Rng, difficulty: number): GeneratedSequences {
  const breast = generateBreast(shape, label, rng, difficulty, DCE_BREAST);
  const { tissue, glandular, wall } = breast;
  const grid = new Grid(shape, BREAST_DEPTH_RATIO);
  const n = shape[0] * shape[1] * shape[2];
  const fine = powerLawNoise(shape, 1.5, rng.fork(), grid.step);
  const pre = new Float32Array(n);
  for (let k = 0; k < n; k++) pre[k] = tissue[k] * (100 + 8 * fine[k]) - glandular[k] * 55 + wall[k] * 40;

  // Non-enhancing bright blobs inside the breast, in both classes: as bright as a mass after contrast.
  const [D, H, W] = shape;
  const inside = (): Vec3 => {
    for (let t = 0; t < 200; t++) {
      const k = (rng.int(D) * H + rng.int(H)) * W + rng.int(W);
      if (glandular[k] > 0.5 && tissue[k] > 0.9) {
        const d = Math.floor(k / (H * W));
        return [grid.coord(0, d), grid.coord(1, Math.floor(k / W) % H), grid.coord(2, k % W)];
      }
    }
    return [0, 0, 0];
  };
  const blobs = grid.field();
  const count = 1 + rng.int(3);
  for (let b = 0; b < count; b++) {
    const r = rng.uniformRange(0.12, 0.2);
    paintBlob(blobs, grid, inside(), r * 1.2, () => r);
  }
  for (let k = 0; k < n; k++) blobs[k] *= tissue[k];
  blend(pre, blobs, rng.uniformRange(130, 180));

  const post = new Float32Array(n);
  for (let k = 0; k < n; k++) post[k] = pre[k] + breast.volume[k];
  const sigma = 2 + 4 * difficulty * rng.uniformRange(0.5, 1);
  addNoise(pre, sigma, rng);
  addNoise(post, sigma, rng);
  const volume = new Float32Array(n);
  for (let k = 0; k < n; k++) volume[k] = post[k] - pre[k];
  return { volume, mask: breast.mask, sequences: [pre, post] };
}
