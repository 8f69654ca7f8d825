import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { normal } from '../nn/init';
import { batchMatMul } from '../ops/batch_matmul';
import { Rng } from '../utils/rng';

/**
 * Additive slice positional embedding (the paper's Table 2 "AdPE"), added to the slice features
 * before the CLS token is prepended:
 * - `none`: no embedding (the published models).
 * - `learned`: the original's `nn.Embedding(maxSlices, E)` (key `slice_pos_emb.weight`, N(0, 1)
 *   init). Volumes of up to `maxSlices` slices use rows `0..D-1` exactly as the original, so its
 *   checkpoints load and behave the same; longer volumes, which the original cannot take, use the
 *   table resampled to `D` rows by linear interpolation with the end rows fixed (align corners).
 * - `sinusoidal`: the fixed sine/cosine table of "Attention is all you need" (no parameters, no
 *   slice cap).
 */
export type SlicePositionalEmbeddingKind = 'none' | 'learned' | 'sinusoidal';

/**
 * The slice positional embedding of {@link SlicePositionalEmbeddingKind}: `D -> [D, E]`.
 *
 * @example
 * new SlicePositionalEmbedding('sinusoidal', 384).forward(32).shape; // [32, 384]
 */
export class SlicePositionalEmbedding extends Module {
  /** `[maxSlices, E]` for `learned`. */
  readonly weight?: tf.Variable;

  constructor(
    readonly kind: Exclude<SlicePositionalEmbeddingKind, 'none'>,
    readonly dim: number,
    readonly maxSlices = 256,
    rng: Rng = new Rng(0),
  ) {
    super();
    if (kind !== 'learned' && kind !== 'sinusoidal') {
      throw new Error(`SlicePositionalEmbedding: expected 'learned' or 'sinusoidal', got '${String(kind)}'`);
    }
    if (!(Number.isInteger(maxSlices) && maxSlices > 0)) throw new Error(`SlicePositionalEmbedding: maxSlices must be a positive integer, got ${maxSlices}`);
    if (kind === 'learned') this.weight = this.registerParameter('weight', normal([maxSlices, dim], 1, rng));
  }

  /** The embedding of slices `0..numSlices-1`, `[numSlices, E]`. */
  forward(numSlices: number): tf.Tensor2D {
    if (!(Number.isInteger(numSlices) && numSlices > 0)) throw new Error(`SlicePositionalEmbedding: expected a positive slice count, got ${numSlices}`);
    if (this.kind === 'sinusoidal') return sinusoidalTable(numSlices, this.dim);
    const table = this.weight as tf.Variable;
    if (numSlices <= this.maxSlices) return tf.slice(table, [0, 0], [numSlices, this.dim]) as tf.Tensor2D;
    return tf.tidy(() => batchMatMul(linearResampleMatrix(this.maxSlices, numSlices), table)) as tf.Tensor2D;
  }
}

/** `[n, dim]` with `sin(p w_i)` in even and `cos(p w_i)` in odd columns, `w_i = 10000^(-2i/dim)`. */
function sinusoidalTable(n: number, dim: number): tf.Tensor2D {
  const data = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < dim; c++) {
      const angle = p / Math.pow(10000, (2 * Math.floor(c / 2)) / dim);
      data[p * dim + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return tf.tensor2d(data, [n, dim]);
}

/** `[to, from]` matrix of linear interpolation weights with both end rows kept (align corners). */
function linearResampleMatrix(from: number, to: number): tf.Tensor2D {
  const m = new Float32Array(to * from);
  for (let i = 0; i < to; i++) {
    const x = to === 1 ? 0 : (i * (from - 1)) / (to - 1);
    const lo = Math.min(Math.floor(x), from - 1);
    const hi = Math.min(lo + 1, from - 1);
    const t = x - lo;
    m[i * from + lo] += 1 - t;
    m[i * from + hi] += t;
  }
  return tf.tensor2d(m, [to, from]);
}
