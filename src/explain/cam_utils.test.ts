import * as tf from '@tensorflow/tfjs';
import { camFromWeights, computeCam, normalizeMinMax } from './cam_utils';
import { gradCamWeights } from './grad_cam';
import { gradCamPlusPlusWeights } from './grad_cam_pp';

describe('CAM machinery', () => {
  it('min-max normalises globally or per item, and maps a constant map to zeros', () => {
    const x = tf.tensor2d([[1, 3], [5, 9]]);
    expect(Array.from(normalizeMinMax(x, 'global').dataSync())).toEqual([0, 0.25, 0.5, 1]);
    expect(Array.from(normalizeMinMax(x, 'perItem').dataSync())).toEqual([0, 1, 0, 1]);
    expect(Array.from(normalizeMinMax(tf.fill([3], 2), 'global').dataSync())).toEqual([0, 0, 0]);
    x.dispose();
  });

  it('weights channels by the mean gradient (Grad-CAM) and by eq. 19 (Grad-CAM++)', () => {
    // One item, two pixels, one channel: A = [1, 3], g = [0.5, -0.5].
    const act = tf.tensor4d([1, 3], [1, 1, 2, 1]);
    const grad = tf.tensor4d([0.5, -0.5], [1, 1, 2, 1]);
    expect(gradCamWeights(grad).dataSync()[0]).toBeCloseTo(0, 7);
    // alpha_1 = 0.25 / (0.5 + 4 * 0.125 + 1e-6); only the positive gradient counts: w = 0.5 * alpha_1.
    expect(gradCamPlusPlusWeights(act, grad, 1e-6).dataSync()[0]).toBeCloseTo(0.5 * (0.25 / (1 + 1e-6)), 6);
    const cam = camFromWeights(act, tf.tensor4d([2], [1, 1, 1, 1]));
    expect(Array.from(cam.dataSync())).toEqual([0, 1]);
    tf.dispose([act, grad, cam]);
  });

  it('takes gradients through the tail without leaking and checks the class', () => {
    // head: x -> x (a [1, 1, 2, 2] "activation"), tail: the sum per channel is a 2-class score.
    const x = tf.tensor4d([1, 2, 3, 4, 4, 3, 2, 1], [1, 2, 2, 2]);
    const split = { head: (t: tf.Tensor) => tf.clone(t), tail: (a: tf.Tensor) => tf.sum(tf.mul(a, tf.tensor1d([1, -1])), [1, 2]) as tf.Tensor2D };
    const before = tf.memory().numTensors;
    const r = computeCam(split, x, (_a, g) => gradCamWeights(g), { targetClass: 1 });
    // Class 1 scores -channel 1: weight -1 on [4, 3, 2, 1] -> relu(-A) = 0 everywhere.
    expect(Array.from(r.cam.dataSync())).toEqual([0, 0, 0, 0]);
    expect(r.targetClass).toEqual([1]);
    tf.dispose([r.cam, r.scores]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => computeCam(split, x, (_a, g) => gradCamWeights(g), { targetClass: 2 })).toThrow(/target class 2 is out of range: the network has 2 classes \(0..1\)/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
