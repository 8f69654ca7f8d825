import * as tf from '@tensorflow/tfjs';

/** What one pass of the model function of test-time augmentation (and of smoothing) returns. */
export interface TtaPass {
  /** Class probabilities (softmax), `[classes]` or `[B, classes]`. */
  probabilities: tf.Tensor;
  /**
   * Maps whose leading axes follow the volume's `[D, H, W]` (at any resolution): `[D]` for slice
   * attention, `[D, h, w]` for spatial maps. Each is flipped back before averaging.
   */
  maps: Record<string, tf.Tensor>;
}

/**
 * A running sum of explanation passes (probabilities and maps), owning every tensor it holds;
 * shared by test-time augmentation and noise smoothing.
 *
 * @example
 * const sum = new PassSum('smoothExplanation');
 * sum.add(pass(x1)); sum.add(pass(x2));
 * const avg = sum.mean();
 */
export class PassSum {
  private total: TtaPass | null = null;
  private count = 0;

  constructor(private readonly what: string) {}

  /** Adds a pass, taking its tensors (freed now or by {@link mean} / {@link dispose}). */
  add(out: TtaPass): void {
    const prev = this.total;
    this.count++;
    if (prev === null) {
      this.total = out;
      return;
    }
    try {
      for (const k of Object.keys(out.maps)) {
        if (!(k in prev.maps)) throw new Error(`${this.what}: pass returned map '${k}' that the first pass did not`);
      }
      this.total = {
        probabilities: tf.add(prev.probabilities, out.probabilities),
        maps: Object.fromEntries(Object.entries(prev.maps).map(([k, m]) => [k, k in out.maps ? tf.add(m, out.maps[k]) : tf.clone(m)])),
      };
    } finally {
      tf.dispose([prev.probabilities, ...Object.values(prev.maps), out.probabilities, ...Object.values(out.maps)]);
    }
  }

  /** The mean of the passes added; the sum is given up. */
  mean(): TtaPass {
    const s = this.total;
    if (s === null) throw new Error(`${this.what}: no pass to average`);
    this.total = null;
    const avg = (t: tf.Tensor) => {
      const r = tf.div(t, this.count);
      t.dispose();
      return r;
    };
    return { probabilities: avg(s.probabilities), maps: Object.fromEntries(Object.entries(s.maps).map(([k, m]) => [k, avg(m)])) };
  }

  /** Frees the sum (after an error). */
  dispose(): void {
    if (this.total) tf.dispose([this.total.probabilities, ...Object.values(this.total.maps)]);
    this.total = null;
  }
}
