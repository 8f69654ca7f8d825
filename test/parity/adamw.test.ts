import * as tf from '@tensorflow/tfjs';
import { AdamW, type AdamWOptions } from '../../src/train/adamw';
import { loadSafetensors } from '../../src/io/safetensors';
import { disposeStateDict } from '../../src/nn/module';
import { fixturePath, maxAbsDiff } from '../helpers';

// Written by tools/reference/adamw_ref.py (torch.optim.AdamW on a least-squares problem).
const SETTINGS: [string, AdamWOptions][] = [
  ['default', { lr: 1e-2 }],
  ['custom', { lr: 3e-2, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }],
];
const STEPS = 6;

describe('AdamW parity with torch.optim.AdamW', () => {
  it.each(SETTINGS)('follows the %s trajectory to 1e-7', async (name, opts) => {
    const ref = await loadSafetensors(fixturePath('train', 'adamw.safetensors'));
    const before = tf.memory().numTensors;
    const w = tf.variable(ref.w0);
    const b = tf.variable(ref.b0);
    const opt = new AdamW([['w', w], ['b', b]], opts);
    for (let step = 1; step <= STEPS; step++) {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(ref.x, tf.transpose(w)), b), ref.y))) as tf.Scalar,
        [w, b],
      );
      opt.step(grads);
      tf.dispose([value, grads]);
      expect(maxAbsDiff(w, ref[`${name}.w${step}`])).toBeLessThan(1e-7);
      expect(maxAbsDiff(b, ref[`${name}.b${step}`])).toBeLessThan(1e-7);
    }
    opt.dispose();
    tf.dispose([w, b]);
    expect(tf.memory().numTensors).toBe(before);
    disposeStateDict(ref);
  });
});
