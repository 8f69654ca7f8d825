import * as tf from '@tensorflow/tfjs';
import { camFromWeights, type LayeredNetwork } from './cam_utils';
import { eigenCamWeights } from './eigen_cam';
import { hiResCamWeights } from './hires_cam';
import { layerCamWeights } from './layer_cam';
import { occlusionSensitivity } from './occlusion';
import { scoreCam } from './score_cam';
import { xGradCamWeights } from './xgrad_cam';

// A 2D "network" on [B, H, W, 1]: the layer is the input with 2 channels (x, -x), class 0 scores
// the mean of channel 0 over the bottom row, class 1 of channel 1.
const toy: LayeredNetwork = {
  forwardTo: (_name, x) => tf.tidy(() => tf.concat([x, tf.neg(x)], -1)),
  forwardFrom: (_name, a) =>
    tf.tidy(() => {
      const bottom = tf.slice(a, [0, 1, 0, 0], [-1, 1, -1, -1]);
      return tf.reshape(tf.mean(bottom, [1, 2]), [a.shape[0], 2]);
    }),
};

describe('the CAM family', () => {
  it('weights elements by the gradient (HiResCAM), its positive part (LayerCAM), or activation-weighted means (XGrad-CAM)', () => {
    // One item, two locations, one channel: A = [1, 3], g = [0.5, -0.5].
    const act = tf.tensor4d([1, 3], [1, 1, 2, 1]);
    const grad = tf.tensor4d([0.5, -0.5], [1, 1, 2, 1]);
    const before = tf.memory().numTensors;
    const hi = tf.tidy(() => camFromWeights(act, hiResCamWeights(grad), 'none'));
    const layer = tf.tidy(() => camFromWeights(act, layerCamWeights(grad), 'none'));
    const xw = xGradCamWeights(act, grad);
    expect(Array.from(hi.dataSync())).toEqual([0.5, 0]); // relu([0.5, -1.5])
    expect(Array.from(layer.dataSync())).toEqual([0.5, 0]);
    expect(xw.dataSync()[0]).toBeCloseTo((1 / 4) * 0.5 + (3 / 4) * -0.5, 7);
    tf.dispose([hi, layer, xw]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([act, grad]);
  });

  it('Eigen-CAM projects on the first principal direction, oriented positive', () => {
    // O = u w^T (rank one): the projection is proportional to u whatever the sign of w.
    const u = [1, 2, 0, 3];
    for (const sign of [1, -1]) {
      const w = [2, -1, 0.5].map((x) => x * sign);
      const act = tf.tensor(u.flatMap((a) => w.map((b) => a * b)), [1, 2, 2, 3]);
      const cam = tf.tidy(() => camFromWeights(act, eigenCamWeights(act, 50), 'global'));
      const out = Array.from(cam.dataSync());
      [1 / 3, 2 / 3, 0, 1].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
      tf.dispose([act, cam]);
    }
  });

  it('Score-CAM works on 2D layers and keeps the channels whose maps vary most under a budget', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const before = tf.memory().numTensors;
    const r = await scoreCam(toy, x, { targetClass: 0, batchSize: 1 });
    expect(r.cam.shape).toEqual([1, 2, 3]);
    // Channel 0's map rises with x; channel 1 is its negative and is cut by the ReLU: the map is x's min-max.
    const expected = [0, 0.2, 0.4, 0.6, 0.8, 1];
    Array.from(r.cam.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([r.cam, r.scores]);
    // Budget 1: both channels vary as much; the tie keeps channel 0, which then weighs 1.
    const one = await scoreCam(toy, x, { targetClass: 0, maxForwardPasses: 1 });
    Array.from(one.cam.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([one.cam, one.scores]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(scoreCam(toy, x, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 0/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('occlusion names bad windows and strides', async () => {
    const v = tf.zeros([4, 4, 4]);
    const classify = (b: tf.Tensor) => tf.tidy(() => tf.stack([tf.sum(b, [1, 2, 3]), tf.zeros([b.shape[0] as number])], 1));
    await expect(occlusionSensitivity(classify, v, { window: [2, 0, 2] })).rejects.toThrow(/window must be a positive integer or three of them/);
    await expect(occlusionSensitivity(classify, v, { stride: 1.5 })).rejects.toThrow(/stride must be a positive integer/);
    await expect(occlusionSensitivity(classify, tf.zeros([4, 4]), {})).rejects.toThrow(/expected a volume \[D, H, W\], got shape \[4, 4\]/);
    v.dispose();
  });
});
