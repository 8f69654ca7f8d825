import * as tf from '@tensorflow/tfjs';
import type { VolumeDataset } from '../data/dataset';
import type { SliceEncoder } from '../models/slice_encoder';
import { auc } from '../stats/auc';
import type { Slice2D } from './multi_crop';
import { repeatChannels } from '../ops/repeat_channels';

/** Labelled 2D slices of one task, all of one size. */
export interface LabelledSlices {
  slices: Slice2D[];
  labels: number[];
}

/** A k-NN probe: labelled slices to remember and labelled slices to classify, of one task. */
export interface KnnProbeSet {
  /** Name in logs (the task). */
  name: string;
  /** The memory bank. */
  train: LabelledSlices;
  /** The queries. */
  test: LabelledSlices;
}

/**
 * The labelled slices of a dataset for a slice-level probe. Where a volume has a lesion mask, the
 * slices that cut the lesion carry the volume's label (a lesion slice of a positive case, or of a
 * negative case whose finding is benign, as the chest task's nodules); a volume without a lesion
 * gives, for each lesion slice of the previous positive volume, the slice at the same depth, so both
 * classes come from the same anatomy. Without any mask every slice carries its volume's label.
 *
 * @example
 * const probe = await labelledSlices(syntheticDataset('breast', { n: 100, seed: 9, offset: 20000 }));
 */
export async function labelledSlices(dataset: VolumeDataset): Promise<LabelledSlices> {
  const slices: Slice2D[] = [];
  const labels: number[] = [];
  let depths: number[] = [];
  for (let i = 0; i < dataset.length; i++) {
    const s = await dataset.get(i);
    const [d, h, w] = s.shape;
    const at = (z: number): Slice2D => ({ data: s.data.subarray(z * h * w, (z + 1) * h * w), h, w });
    const lesion: number[] = [];
    if (s.mask) {
      for (let z = 0; z < d; z++) {
        for (let k = z * h * w; k < (z + 1) * h * w; k++) {
          if (s.mask[k]) {
            lesion.push(z);
            break;
          }
        }
      }
    }
    if (!s.mask) {
      for (let z = 0; z < d; z++) {
        slices.push(at(z));
        labels.push(s.label);
      }
    } else if (lesion.length) {
      for (const z of lesion) {
        slices.push(at(z));
        labels.push(s.label);
      }
      if (s.label === 1) depths = lesion;
    } else {
      for (const z of depths) {
        if (z >= d) continue;
        slices.push(at(z));
        labels.push(s.label);
      }
    }
  }
  const sizes = new Set(slices.map((s) => `${s.h}x${s.w}`));
  if (sizes.size > 1) throw new Error(`labelledSlices: the slices differ in size (${[...sizes].join(', ')}); probe one size at a time`);
  return { slices, labels };
}

/**
 * The encoder's features `[N, E]` of same-sized slices, in evaluation mode, `batch` slices at a
 * time (gray slices are repeated to the encoder's channels). The encoder's mode is restored.
 *
 * @example
 * const f = await encodeSlices(encoder, probe.slices); // Float32Array of N * E
 */
export async function encodeSlices(encoder: SliceEncoder, slices: readonly Slice2D[], batch = 64): Promise<Float32Array> {
  const modes = encoder.namedModules().map(([, m]) => [m, m.training] as const);
  encoder.eval();
  const e = encoder.featureSize;
  const out = new Float32Array(slices.length * e);
  try {
    for (let start = 0; start < slices.length; start += batch) {
      const part = slices.slice(start, start + batch);
      const { h, w } = part[0];
      const data = new Float32Array(part.length * h * w);
      part.forEach((s, i) => data.set(s.data, i * h * w));
      const f = tf.tidy(() => {
        let x = tf.tensor4d(data, [part.length, h, w, 1]);
        if (encoder.inChannels !== 1) x = repeatChannels(x as tf.Tensor4D, encoder.inChannels);
        return encoder.encode(x).features;
      });
      out.set(await f.data(), start * e);
      f.dispose();
    }
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
  return out;
}

/** Options of {@link knnClassify}; the defaults are DINO's k-NN evaluation. */
export interface KnnOptions {
  /** Neighbours (default 20). */
  k?: number;
  /** Temperature of the neighbours' votes `exp(cos / T)` (default 0.07). */
  temperature?: number;
}

/** What {@link knnClassify} returns. */
export interface KnnResult {
  /** Fraction of queries whose weighted vote picks their label. */
  accuracy: number;
  /** AUC of the positive class's share of the votes (binary labels), NaN with one class. */
  auc: number;
  /** The positive class's share of the votes per query. */
  scores: number[];
}

/**
 * DINO's weighted k-NN classifier: features L2-normalised, each query's `k` most cosine-similar
 * memory features vote for their labels with weight `exp(cos / T)`, the heaviest class wins
 * (ties: the smaller label).
 *
 * @example
 * const { accuracy } = await knnClassify(bankFeatures, bankLabels, queryFeatures, queryLabels, 64);
 */
export async function knnClassify(bank: Float32Array, bankLabels: readonly number[], queries: Float32Array, queryLabels: readonly number[], dim: number, options: KnnOptions = {}): Promise<KnnResult> {
  const n = bankLabels.length;
  const m = queryLabels.length;
  if (bank.length !== n * dim || queries.length !== m * dim) throw new Error(`knnClassify: expected ${n} x ${dim} memory and ${m} x ${dim} query features, got ${bank.length} and ${queries.length} values`);
  if (n === 0 || m === 0) throw new Error('knnClassify: the memory bank and the queries must not be empty');
  const k = Math.min(options.k ?? 20, n);
  const t = options.temperature ?? 0.07;
  const classes = Math.max(...bankLabels, ...queryLabels) + 1;
  const [values, indices] = tf.tidy(() => {
    const unit = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12));
    const sim = tf.matMul(unit(tf.tensor2d(queries, [m, dim])), unit(tf.tensor2d(bank, [n, dim])), false, true);
    const top = tf.topk(sim, k);
    return [top.values, top.indices];
  });
  const [sims, idx] = await Promise.all([values.data(), indices.data()]);
  tf.dispose([values, indices]);
  let correct = 0;
  const scores: number[] = [];
  for (let q = 0; q < m; q++) {
    const votes = new Float64Array(classes);
    for (let j = 0; j < k; j++) votes[bankLabels[idx[q * k + j]]] += Math.exp(sims[q * k + j] / t);
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
    if (best === queryLabels[q]) correct++;
    const total = votes.reduce((a, b) => a + b, 0);
    scores.push(classes > 1 && total > 0 ? votes[1] / total : NaN);
  }
  const binary = new Set(queryLabels).size === 2 && classes === 2;
  return { accuracy: correct / m, auc: binary ? auc(queryLabels as number[], scores) : NaN, scores };
}

/**
 * The k-NN probe of an encoder on one {@link KnnProbeSet}: encode both sets, classify the queries
 * by their neighbours in the memory bank.
 *
 * @example
 * const { accuracy } = await knnProbe(encoder, probe);
 */
export async function knnProbe(encoder: SliceEncoder, probe: KnnProbeSet, options: KnnOptions = {}): Promise<KnnResult> {
  const bank = await encodeSlices(encoder, probe.train.slices);
  const queries = await encodeSlices(encoder, probe.test.slices);
  return knnClassify(bank, probe.train.labels, queries, probe.test.labels, encoder.featureSize, options);
}
