/**
 * One tiny-MST training step (batch 8 of 16x32x32 volumes, `mst-dinov2-tiny`) with DINOv2
 * Attention's q, k, v from column blocks of the packed weight (now) against the rank-5 transpose
 * of the packed activations (before),
 * alternating in one process on wasm and timed in CPU time, so that the ratio holds on a loaded
 * machine.
 *
 * Run: npx esbuild bench/attention_split.ts --bundle --platform=node --format=esm \
 *   --external:@tensorflow/* --outfile=.cache/attention_split.mjs && node .cache/attention_split.mjs
 */
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend';
import { createModel } from '../src/models/registry';
import { Attention, type AttentionOutput } from '../src/layers/attention';
import { scaledDotProductAttention } from '../src/ops/attention';
import { crossEntropy } from '../src/train/losses';
import { logitsOf } from '../src/train/gradient_strategy';

// The forward before the change: one rank-5 transpose of the packed q, k, v.
function packedForward(this: Attention, x: tf.Tensor3D): AttentionOutput {
  const [n, t, e] = x.shape;
  return tf.tidy(() => {
    const qkv = tf.reshape(this.qkv.forward(x), [n, t, 3, this.numHeads, this.headDim]);
    const [q, k, v] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])) as tf.Tensor4D[];
    const res = scaledDotProductAttention(q, k, v);
    const merged = tf.reshape(tf.transpose(res.output, [0, 2, 1, 3]), [n, t, e]);
    return { output: this.proj.forward(merged) as tf.Tensor3D };
  });
}

async function main(): Promise<void> {
  await setBackend('wasm');
  const splitForward = Attention.prototype.forward;
  const model = createModel('mst-dinov2-tiny', { imageSize: 32, seed: 0 });
  model.train();
  const x = tf.randomNormal([8, 16, 32, 32], 0, 1, 'float32', 1);
  const labels = [0, 1, 0, 1, 0, 1, 0, 1];
  const vars = model.namedParameters().map(([, v]) => v);
  // CPU time of this process (wasm runs on one thread), which other processes on a shared
  // machine disturb far less than wall time.
  const step = async (): Promise<number> => {
    const t0 = process.cpuUsage();
    const { value, grads } = tf.variableGrads(() => crossEntropy(logitsOf(model.forward(x)), labels) as tf.Scalar, vars);
    await value.data();
    tf.dispose([value, grads]);
    const dt = process.cpuUsage(t0);
    return (dt.user + dt.system) / 1000;
  };
  const times: Record<string, number[]> = { packed: [], split: [] };
  const rounds = Number(process.argv[2] ?? 8);
  for (let r = -1; r < rounds; r++) {
    for (const kind of ['packed', 'split'] as const) {
      Attention.prototype.forward = kind === 'packed' ? (packedForward as typeof splitForward) : splitForward;
      const ms = await step();
      if (r >= 0) times[kind].push(ms); // round -1 warms up both
    }
  }
  // The minimum is the least disturbed by other processes on a shared machine; the median for reference.
  for (const [label, pick] of [['min', (a: number[]) => Math.min(...a)], ['median', (a: number[]) => [...a].sort((u, w) => u - w)[a.length >> 1]]] as const) {
    const p = pick(times.packed);
    const s = pick(times.split);
    console.log(`tiny-MST training step, batch 8 x 16x32x32 (CPU ms, ${label} of ${rounds}): packed rank-5 transpose ${p.toFixed(0)} ms, q/k/v by weight blocks ${s.toFixed(0)} ms, ratio ${(p / s).toFixed(2)}x`);
  }
  x.dispose();
  model.dispose();
}

void main();
