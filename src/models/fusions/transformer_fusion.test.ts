import * as tf from '@tensorflow/tfjs';
import { TransformerFusion, sliceTransformerHeads } from './transformer_fusion';
import { AdpeTransformerFusion } from './transformer_adpe_fusion';
import { LinearFusion } from './linear_fusion';
import { AverageFusion } from './average_fusion';

describe('TransformerFusion', () => {
  it('takes more slices than a learned table holds', () => {
    const st = new TransformerFusion(24, { heads: 12, positionalEmbedding: 'learned', maxSlices: 4 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([1, 7, 24], 0, 1, 'float32', 1);
    const { pooled } = st.forward(x);
    expect(pooled.shape).toEqual([1, 24]);
    tf.dispose([x, pooled]);
    expect(tf.memory().numTensors).toBe(before);
    st.dispose();
  });

  it('returns only the last layer for attention last and every layer for "all", and slice weights summing to 1', () => {
    const st = new TransformerFusion(16, { heads: 4, numLayers: 2 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 3, 16], 0, 1, 'float32', 2);
    const last = st.forward(x, undefined, { attention: 'last' });
    const all = st.forward(x, undefined, { attention: 'all' });
    expect(last.attentions?.map((a) => a.shape)).toEqual([[2, 4, 4, 4]]);
    expect(all.attentions?.length).toBe(2);
    expect(last.sliceWeights?.shape).toEqual([2, 3]);
    // Softmax rows sum to one; so do the renormalised slice weights.
    const rowSums = tf.tidy(() => tf.sum((last.attentions as tf.Tensor[])[0], -1));
    expect(Math.max(...Array.from(rowSums.dataSync()).map((s) => Math.abs(s - 1)))).toBeLessThan(1e-5);
    const weightSums = tf.tidy(() => tf.sum(last.sliceWeights as tf.Tensor, -1));
    expect(Math.max(...Array.from(weightSums.dataSync()).map((s) => Math.abs(s - 1)))).toBeLessThan(1e-5);
    tf.dispose([x, rowSums, weightSums, last.pooled, all.pooled, last.sliceWeights as tf.Tensor, all.sliceWeights as tf.Tensor, ...(last.attentions ?? []), ...(all.attentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    st.dispose();
  });

  it('names what it expected and what it got for bad input', () => {
    expect(() => new TransformerFusion(48, { heads: 5 })).toThrow(/heads must divide the width 48, got 5/);
    const st = new TransformerFusion(16, { heads: 4 });
    const wrongWidth = tf.zeros([1, 3, 12]);
    const noSlices = tf.zeros([1, 0, 16]);
    const rank2 = tf.zeros([3, 16]);
    const ints = tf.zeros([1, 3, 16], 'int32');
    const badMask = tf.zeros([1, 2], 'bool');
    const floatMask = tf.zeros([1, 3]);
    const x = tf.zeros([1, 3, 16]);
    expect(() => st.forward(wrongWidth)).toThrow(/expected slice features \[B, D, 16\], got shape \[1, 3, 12\]/);
    expect(() => st.forward(noSlices)).toThrow(/at least one slice/);
    expect(() => st.forward(rank2)).toThrow(/expected slice features \[B, D, 16\], got shape \[3, 16\]/);
    expect(() => st.forward(ints)).toThrow(/expected float32 slice features, got int32/);
    expect(() => st.forward(x, badMask)).toThrow(/expected a bool padding mask \[1, 3\].*got bool \[1, 2\]/);
    expect(() => st.forward(x, floatMask)).toThrow(/expected a bool padding mask \[1, 3\].*got float32 \[1, 3\]/);
    tf.dispose([wrongWidth, noSlices, rank2, ints, badMask, floatMask, x]);
    st.dispose();
  });

  it("takes the authors' heads for published widths and asks for them otherwise", () => {
    expect(sliceTransformerHeads(384)).toBe(12);
    expect(sliceTransformerHeads(512)).toBe(16);
    expect(sliceTransformerHeads(32, 4)).toBe(4);
    // A 32-d encoder used to get 16 heads of 2 dimensions without a word.
    expect(sliceTransformerHeads(1024)).toBe(16);
    expect(sliceTransformerHeads(48)).toBe(12);
    expect(() => sliceTransformerHeads(32)).toThrow(/width 32 gets no default number of attention heads.*at least 8 dimensions per head.*'heads', e\.g\. 4 \(8-d heads\)/);
    expect(() => sliceTransformerHeads(64)).toThrow(/width 64 gets no default/);
    expect(() => new TransformerFusion(32)).toThrow(/heads/);
  });
});

describe('the other fusions', () => {
  it('AdPE adds a learned table by default; linear concatenates a fixed count; average ignores padded slices', async () => {
    const adpe = new AdpeTransformerFusion(8, { heads: 2 });
    expect(adpe.stateDictKeys()).toContain('slice_pos_emb.weight');
    const lin = new LinearFusion(4, { numSlices: 3 });
    const avg = new AverageFusion(2);
    const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]);
    const mask = tf.tensor2d([[false, false, true]], [1, 3], 'bool');
    const pooled = avg.forward(x, mask).pooled;
    expect(Array.from(await pooled.data())).toEqual([2, 3]);
    expect(() => lin.forward(tf.zeros([1, 2, 4]))).toThrow(/built for 3 slices, got 2/);
    expect(lin.outputSize).toBe(12);
    tf.dispose([x, mask, pooled]);
    adpe.dispose();
  });
});
