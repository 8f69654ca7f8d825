import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';
import { resolveTargets } from './cam_utils';
import { trapezoidArea } from '../stats/auc';
import { mapValues, probabilitiesOf, saliencyRank, type FaithfulnessCurve } from './deletion_insertion';
import type { CpuVolume } from './localisation';

/** Options of {@link noisyLinearImputation}. */
export interface ImputationOptions {
  /** Standard deviation of the noise added to imputed voxels, absolute (default 0). */
  noiseStd?: number;
  /** Seed of the noise (default 0). */
  seed?: number;
  /** Relative residual at which the solver stops (default 1e-6). */
  tolerance?: number;
  /** Conjugate-gradient iterations at most (default 2000). */
  maxIterations?: number;
}

/**
 * ROAD's noisy linear imputation (Rong et al., ICML 2022) in 3D: every removed voxel becomes the
 * mean of its 6 face neighbours, removed ones included, which is one sparse linear system
 * (a discrete Laplace equation with the kept voxels as boundary), solved by preconditioned
 * conjugate gradients in float64; then Gaussian noise is added to the imputed voxels. Removal so
 * leaves no sharp edge whose shape would itself tell the model where the salient voxels were.
 * A removed region with no kept neighbour takes the mean of the kept voxels.
 *
 * @param removed one flag per voxel, 1 = removed
 * @returns the imputed volume
 * @example
 * const filled = noisyLinearImputation({ data, shape: [32, 224, 224] }, removed, { noiseStd: 0.01 });
 */
export function noisyLinearImputation(volume: CpuVolume, removed: ArrayLike<number>, options: ImputationOptions = {}): Float32Array {
  const [D, H, W] = volume.shape;
  const n = D * H * W;
  if (volume.shape.length !== 3 || volume.data.length !== n || removed.length !== n) {
    throw new Error(`noisyLinearImputation: expected a volume [D, H, W] with its data and one flag per voxel, got shape [${volume.shape.join(', ')}], ${volume.data.length} values and ${removed.length} flags`);
  }
  const { noiseStd = 0, tolerance = 1e-6, maxIterations = 2000 } = options;
  const out = Float32Array.from(volume.data);
  const index = new Int32Array(n).fill(-1);
  const unknown: number[] = [];
  let knownSum = 0;
  for (let i = 0; i < n; i++) {
    if (removed[i]) {
      index[i] = unknown.length;
      unknown.push(i);
    } else knownSum += volume.data[i];
  }
  const m = unknown.length;
  if (m === 0) return out;
  const fill = n > m ? knownSum / (n - m) : 0;
  // Per unknown: its in-volume neighbour count, its unknown neighbours (-1 padded) and the sum of its known ones.
  const deg = new Float64Array(m);
  const nbr = new Int32Array(6 * m).fill(-1);
  const b = new Float64Array(m);
  const steps = [-H * W, H * W, -W, W, -1, 1];
  for (let u = 0; u < m; u++) {
    const i = unknown[u];
    const d = Math.floor(i / (H * W));
    const h = Math.floor(i / W) % H;
    const w = i % W;
    const inside = [d > 0, d < D - 1, h > 0, h < H - 1, w > 0, w < W - 1];
    for (let s = 0; s < 6; s++) {
      if (!inside[s]) continue;
      const j = i + steps[s];
      deg[u]++;
      if (index[j] >= 0) nbr[6 * u + s] = index[j];
      else b[u] += volume.data[j];
    }
  }
  const apply = (x: Float64Array, y: Float64Array) => {
    for (let u = 0; u < m; u++) {
      let s = deg[u] * x[u];
      for (let k = 6 * u; k < 6 * u + 6; k++) if (nbr[k] >= 0) s -= x[nbr[k]];
      y[u] = s;
    }
  };
  const x = new Float64Array(m).fill(fill);
  const r = new Float64Array(m);
  apply(x, r);
  for (let u = 0; u < m; u++) r[u] = b[u] - r[u];
  const z = new Float64Array(m);
  const precondition = () => {
    for (let u = 0; u < m; u++) z[u] = deg[u] > 0 ? r[u] / deg[u] : 0;
  };
  precondition();
  const p = Float64Array.from(z);
  const q = new Float64Array(m);
  const dot = (a: Float64Array, c: Float64Array) => {
    let s = 0;
    for (let u = 0; u < m; u++) s += a[u] * c[u];
    return s;
  };
  const bNorm = Math.sqrt(dot(b, b)) || 1;
  let rz = dot(r, z);
  for (let it = 0; it < maxIterations && Math.sqrt(dot(r, r)) > tolerance * bNorm; it++) {
    apply(p, q);
    const pq = dot(p, q);
    if (!(pq > 0)) break;
    const alpha = rz / pq;
    for (let u = 0; u < m; u++) {
      x[u] += alpha * p[u];
      r[u] -= alpha * q[u];
    }
    precondition();
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let u = 0; u < m; u++) p[u] = z[u] + beta * p[u];
  }
  const rng = new Rng(options.seed ?? 0);
  for (let u = 0; u < m; u++) out[unknown[u]] = x[u] + (noiseStd > 0 ? noiseStd * rng.normal() : 0);
  return out;
}

/** Options of {@link roadCurves}. */
export interface RoadOptions {
  /** Fractions of the voxels removed (default `[0.1, 0.3, 0.5, 0.7, 0.9]`). */
  fractions?: number[];
  /** Imputation noise as a fraction of the volume's value range (default 0.01). */
  noise?: number;
  /** Seed of the imputation noise (default 0). */
  seed?: number;
  /** Volumes per forward pass (default 4). */
  batchSize?: number;
  /** Class whose probability is followed (default: the predicted class). */
  targetClass?: number;
}

/** What {@link roadCurves} returns: the curves start at fraction 0, the unchanged volume. */
export interface RoadResult {
  targetClass: number;
  /** Most relevant first removed: low area = faithful. */
  morf: FaithfulnessCurve;
  /** Least relevant first removed: high area = faithful. */
  lerf: FaithfulnessCurve;
}

/**
 * ROAD (Remove And Debias, Rong et al. 2022) in 3D: the most (MoRF) or least (LeRF) salient
 * fraction of the voxels is removed by {@link noisyLinearImputation} and the target's softmax
 * probability recorded, for each fraction. Imputation runs on the CPU (a sparse solve per
 * fraction and order); the forward passes are batched. Nothing given is disposed.
 *
 * @param volume `[D, H, W]`
 * @param saliency `[D, H, W]`
 * @example
 * const r = await roadCurves((v) => net.forward(tf.expandDims(v, -1)), volume, e.saliencyUpsampled!);
 * r.morf.auc < r.lerf.auc; // for a faithful map
 */
export async function roadCurves(classify: (volumes: tf.Tensor) => tf.Tensor, volume: tf.Tensor, saliency: tf.Tensor | CpuVolume, options: RoadOptions = {}): Promise<RoadResult> {
  if (volume.rank !== 3) throw new Error(`roadCurves: expected a volume [D, H, W], got shape [${volume.shape.join(', ')}]`);
  const fractions = options.fractions ?? [0.1, 0.3, 0.5, 0.7, 0.9];
  if (fractions.length === 0 || fractions.some((f, i) => !(f > 0 && f < 1) || (i > 0 && f <= fractions[i - 1]))) {
    throw new Error(`roadCurves: fractions must increase strictly inside (0, 1), got [${fractions.join(', ')}]`);
  }
  const batchSize = options.batchSize ?? 4;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`roadCurves: batchSize must be a positive integer, got ${batchSize}`);
  const rank = saliencyRank(await mapValues('roadCurves', saliency, volume.shape));
  const data = await volume.data();
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const noiseStd = (options.noise ?? 0.01) * (hi - lo);
  const n = data.length;
  const t = tf.tidy(() => resolveTargets(options.targetClass, classify(tf.expandDims(volume, 0)) as tf.Tensor2D));
  const target = (await t.data())[0];
  t.dispose();
  const cpu: CpuVolume = { data, shape: volume.shape };
  // Input 0 is the volume; then MoRF at each fraction, then LeRF.
  const imputed = (k: number): Float32Array => {
    if (k === 0) return Float32Array.from(data);
    const morf = k <= fractions.length;
    const count = Math.round(fractions[(k - 1) % fractions.length] * n);
    const removed = new Uint8Array(n);
    for (let i = 0; i < n; i++) removed[i] = (morf ? rank[i] < count : rank[i] >= n - count) ? 1 : 0;
    return noisyLinearImputation(cpu, removed, { noiseStd, seed: (options.seed ?? 0) + k });
  };
  const make = (ks: number[]) => tf.stack(ks.map((k) => tf.tensor(imputed(k), volume.shape)));
  const p = await probabilitiesOf(classify, make, 1 + 2 * fractions.length, batchSize, target);
  const xs = [0, ...fractions];
  const curve = (scores: number[]): FaithfulnessCurve => ({ fractions: xs, scores, auc: trapezoidArea(xs, scores) });
  return { targetClass: target, morf: curve([p[0], ...p.slice(1, 1 + fractions.length)]), lerf: curve([p[0], ...p.slice(1 + fractions.length)]) };
}
