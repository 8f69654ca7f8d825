import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './losses';

describe('crossEntropy', () => {
  it('equals -log softmax at the target, averaged', () => {
    const logits = tf.tensor2d([[2, 0], [0, 1]]);
    const loss = crossEntropy(logits, [0, 1]);
    const expected = (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(-1))) / 2;
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 6);
    tf.dispose([logits, loss]);
  });

  it('divides by the summed target weights when class weights are given, as torch', () => {
    const logits = tf.tensor2d([[2, 0], [0, 1], [1, 1]]);
    const l0 = Math.log(1 + Math.exp(-2));
    const l1 = Math.log(1 + Math.exp(-1));
    const l2 = Math.log(2);
    const loss = crossEntropy(logits, [0, 1, 1], { weight: [0.25, 2] });
    expect(loss.dataSync()[0]).toBeCloseTo((0.25 * l0 + 2 * l1 + 2 * l2) / (0.25 + 2 + 2), 6);
    const none = crossEntropy(logits, [0, 1, 1], { reduction: 'none' });
    expect(Array.from(none.dataSync())).toEqual([l0, l1, l2].map((v) => expect.closeTo(v, 6)));
    tf.dispose([logits, loss, none]);
  });

  it('has the softmax-minus-one-hot gradient', () => {
    const logits = tf.tensor2d([[0.5, -0.5, 1]]);
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x, [2]))(logits);
    const p = tf.softmax(logits).dataSync();
    expect(Array.from(g.dataSync())).toEqual([p[0], p[1], p[2] - 1].map((v) => expect.closeTo(v, 6)));
    tf.dispose([logits, g]);
  });

  it('names bad labels and shapes', () => {
    const logits = tf.zeros([2, 2]);
    expect(() => crossEntropy(logits, [0, 2])).toThrow('label 2 outside the classes [0, 2)');
    expect(() => crossEntropy(logits, [0])).toThrow('expected 2 labels');
    expect(() => crossEntropy(logits, [0, 1], { weight: [1] })).toThrow('expected 2 class weights');
    expect(() => crossEntropy(tf.zeros([2]), [0, 1])).toThrow('expected logits [B, C]');
    logits.dispose();
  });
});
