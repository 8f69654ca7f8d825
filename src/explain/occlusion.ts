import * as tf from '@tensorflow/tfjs';
import { normalizeMinMax, resolveTargets } from './cam_utils';

/** Options of {@link occlusionSensitivity}. */
export interface OcclusionOptions {
  /** Box size in voxels `[d, h, w]` or one for all axes (default: a quarter of each axis, rounded up). */
  window?: number | [number, number, number];
  /** Step between boxes in voxels (default: the window, i.e. no overlap). */
  stride?: number | [number, number, number];
  /** Value written into the box (default 0). */
  baseline?: number;
  /** Occluded volumes per forward pass (default 4). */
  batchSize?: number;
  /** Class explained (default: the predicted class). */
  targetClass?: number;
  /** What drops when a box is occluded: the target's softmax 'probability' (default) or its 'logit'. */
  score?: 'probability' | 'logit';
}

/** What {@link occlusionSensitivity} returns; the caller disposes the tensors. */
export interface OcclusionResult {
  /** `[D, H, W]`: the sensitivity's positive part, min-max normalised to [0, 1]. */
  cam: tf.Tensor3D;
  /** `[D, H, W]`: per voxel, the mean score drop over the boxes covering it. */
  sensitivity: tf.Tensor3D;
  /** Scores `[1, classes]` of the unoccluded volume. */
  scores: tf.Tensor2D;
  targetClass: number;
  /** Forward passes made (occluded volumes, plus the unoccluded one). */
  forwardPasses: number;
}

function triple(what: string, v: number | number[], dims: readonly number[]): [number, number, number] {
  const t = typeof v === 'number' ? [v, v, v] : v;
  if (t.length !== 3 || !t.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new Error(`occlusionSensitivity: ${what} must be a positive integer or three of them [d, h, w], got ${JSON.stringify(v)}`);
  }
  return t.map((x, a) => Math.min(x, dims[a])) as [number, number, number];
}

/** Box starts along one axis: every stride, plus one flush with the end so every voxel is covered. */
function starts(size: number, window: number, stride: number): number[] {
  const out: number[] = [];
  for (let s = 0; s + window <= size; s += stride) out.push(s);
  if (out[out.length - 1] + window < size) out.push(size - window);
  return out;
}

/** `[boxes, size]` indicator of each box along one axis. */
function indicator(size: number, window: number, first: number[]): Float32Array {
  const m = new Float32Array(first.length * size);
  first.forEach((s, i) => m.fill(1, i * size + s, i * size + s + window));
  return m;
}

/**
 * 3D occlusion sensitivity (Zeiler & Fergus 2014, in 3D): a box of `window` voxels slides over
 * the volume in steps of `stride` (plus a last box flush with each end), is set to `baseline`,
 * and the drop of the target's probability is spread over the box's voxels; each voxel gets the
 * mean drop of the boxes covering it. Model-agnostic: `classify` maps volumes `[n, D, H, W]` to
 * scores `[n, classes]` (any model: MST, 3D ResNet). The volume is not disposed.
 *
 * @param volume `[D, H, W]`
 * @example
 * const r = await occlusionSensitivity((v) => mst.forward(v).logits, volume, { window: [4, 32, 32], stride: [2, 16, 16] });
 * r.cam.shape; // [D, H, W]
 */
export async function occlusionSensitivity(classify: (volumes: tf.Tensor) => tf.Tensor, volume: tf.Tensor, options: OcclusionOptions = {}): Promise<OcclusionResult> {
  if (volume.rank !== 3) throw new Error(`occlusionSensitivity: expected a volume [D, H, W], got shape [${volume.shape.join(', ')}]`);
  const dims = volume.shape as [number, number, number];
  const window = triple('window', options.window ?? dims.map((d) => Math.ceil(d / 4)), dims);
  const stride = triple('stride', options.stride ?? window, dims);
  const batchSize = options.batchSize ?? 4;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`occlusionSensitivity: batchSize must be a positive integer, got ${batchSize}`);
  const mode = options.score ?? 'probability';
  if (mode !== 'probability' && mode !== 'logit') throw new Error(`occlusionSensitivity: score must be 'probability' or 'logit', got '${String(mode)}'`);
  const baseline = options.baseline ?? 0;
  const first = [0, 1, 2].map((a) => starts(dims[a], window[a], stride[a]));
  const ind = [0, 1, 2].map((a) => indicator(dims[a], window[a], first[a]));
  const [ni, nj, nl] = first.map((f) => f.length);
  const score = (s: tf.Tensor, target: number) => {
    const v = mode === 'probability' ? tf.softmax(s) : s;
    return tf.reshape(tf.slice(v, [0, target], [s.shape[0] as number, 1]), [-1]);
  };

  const scores = tf.tidy(() => classify(tf.expandDims(volume, 0))) as tf.Tensor2D;
  let target: number;
  let reference: number;
  try {
    const t = resolveTargets(options.targetClass, scores);
    target = (await t.data())[0];
    t.dispose();
    const r = tf.tidy(() => score(scores, target));
    reference = (await r.data())[0];
    r.dispose();
  } catch (err) {
    scores.dispose();
    throw err;
  }
  const total = ni * nj * nl;
  const drops = new Float32Array(total);
  try {
    for (let k0 = 0; k0 < total; k0 += batchSize) {
      const ks = Array.from({ length: Math.min(batchSize, total - k0) }, (_, i) => k0 + i);
      const p = tf.tidy(() => {
        // One box per volume as the product of three axis indicators: [n, D, H, W].
        const axis = (a: number, index: (k: number) => number) => {
          const rows = ks.map((k) => ind[a].subarray(index(k) * dims[a], (index(k) + 1) * dims[a]));
          const flat = new Float32Array(ks.length * dims[a]);
          rows.forEach((r, i) => flat.set(r, i * dims[a]));
          const shape = [ks.length, 1, 1, 1];
          shape[a + 1] = dims[a];
          return tf.tensor(flat, shape);
        };
        const box = tf.mul(tf.mul(axis(0, (k) => Math.floor(k / (nj * nl))), axis(1, (k) => Math.floor(k / nl) % nj)), axis(2, (k) => k % nl));
        const occluded = tf.add(tf.mul(volume, tf.sub(1, box)), tf.mul(box, baseline));
        return score(classify(occluded), target);
      });
      const v = await p.data();
      p.dispose();
      ks.forEach((k, i) => (drops[k] = reference - v[i]));
    }
  } catch (err) {
    scores.dispose();
    throw err;
  }
  const sensitivity = tf.tidy(() => {
    // sum over boxes of drop * box, contracted one axis at a time, over the voxel's box count.
    const md = tf.tensor2d(ind[0], [ni, dims[0]]);
    const mh = tf.tensor2d(ind[1], [nj, dims[1]]);
    const mw = tf.tensor2d(ind[2], [nl, dims[2]]);
    let x = tf.matMul(tf.tensor2d(drops, [ni * nj, nl]), mw); // [ni*nj, W]
    x = tf.matMul(tf.reshape(tf.transpose(tf.reshape(x, [ni, nj, dims[2]]), [0, 2, 1]), [ni * dims[2], nj]), mh); // [ni*W, H]
    x = tf.matMul(tf.reshape(tf.transpose(tf.reshape(x, [ni, dims[2], dims[1]]), [2, 1, 0]), [dims[1] * dims[2], ni]), md); // [H*W, D]
    const sum = tf.transpose(tf.reshape(x, [dims[1], dims[2], dims[0]]), [2, 0, 1]);
    const count = tf.mul(tf.mul(tf.reshape(tf.sum(md, 0), [-1, 1, 1]), tf.reshape(tf.sum(mh, 0), [1, -1, 1])), tf.reshape(tf.sum(mw, 0), [1, 1, -1]));
    return tf.div(sum, count) as tf.Tensor3D;
  });
  const cam = tf.tidy(() => normalizeMinMax(tf.relu(sensitivity), 'global') as tf.Tensor3D);
  return { cam, sensitivity, scores, targetClass: target, forwardPasses: total + 1 };
}
