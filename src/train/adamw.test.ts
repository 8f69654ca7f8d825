import * as tf from '@tensorflow/tfjs';
import { ADAMW } from '../kernels/wasm_adamw';
import { AdamW } from './adamw';

describe('AdamW', () => {
  it('takes the first step as torch: p*(1-lr*wd) - lr*g/(|g|+eps)', () => {
    const p = tf.variable(tf.tensor1d([1, -2, 3]));
    const opt = new AdamW([['p', p]], { lr: 0.1, weightDecay: 0.5 });
    const g = tf.tensor1d([0.5, -1, 0]);
    opt.step({ [p.name]: g });
    // After one step the bias-corrected m/sqrt(v) is sign(g) (0 where g = 0).
    const expected = [1 * 0.95 - 0.1 * (0.5 / (0.5 + 1e-8)), -2 * 0.95 + 0.1, 3 * 0.95];
    expect(Array.from(p.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    tf.dispose([p, g]);
    opt.dispose();
  });

  it('leaves parameters without a gradient and frozen ones alone, and leaks nothing', () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([2]));
    const frozen = tf.variable(tf.ones([2]), false);
    const start = tf.memory().numTensors;
    const opt = new AdamW([['a', a], ['b', b], ['f', frozen]], { lr: 0.1 });
    expect(opt.names()).toEqual(['a', 'b']);
    const before = tf.memory().numTensors;
    const g = tf.ones([2]);
    for (let i = 0; i < 3; i++) opt.step({ [a.name]: g });
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(b.dataSync())).toEqual([1, 1]);
    expect(a.dataSync()[0]).toBeLessThan(1);
    expect(opt.stepCount).toBe(3);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose([a, b, frozen]);
  });

  it('round-trips its moments through stateDict', () => {
    const p = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const q = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const o1 = new AdamW([['w', p]], { lr: 0.01 });
    const o2 = new AdamW([['w', q]], { lr: 0.01 });
    const g = tf.tensor2d([[0.1, -0.2], [0.3, 0.4]]);
    o1.step({ [p.name]: g });
    o2.step({ [q.name]: g });
    const saved = o1.stateDict();
    const o3 = new AdamW([['w', p]], { lr: 0.01 });
    o3.loadStateDict(saved);
    tf.dispose(Object.values(saved.tensors));
    o3.step({ [p.name]: g });
    o2.step({ [q.name]: g });
    expect(Array.from(p.dataSync())).toEqual(Array.from(q.dataSync()));
    expect(() => o3.loadStateDict({ tensors: {}, step: 1 })).toThrow("missing 'exp_avg.w'");
    [o1, o2, o3].forEach((o) => o.dispose());
    tf.dispose([p, q, g]);
  });

  it('on wasm runs the fused kernel (native/adamw.c), equal bit for bit to the composed tfjs ops over three steps', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel(ADAMW, 'wasm')).toBeDefined();
    const w = tf.variable(tf.randomNormal([1000, 7], 0, 1, 'float32', 1), true, 'adamw_fused_w');
    const opt = new AdamW([['w', w]], { lr: 3e-3, weightDecay: 0.05 });
    const [b1, b2, eps, lr, wd] = [0.9, 0.999, 1e-8, 3e-3, 0.05];
    let p: tf.Tensor = tf.clone(w);
    let m: tf.Tensor = tf.zerosLike(w);
    let v: tf.Tensor = tf.zerosLike(w);
    const before = tf.memory().numTensors;
    for (let t = 1; t <= 3; t++) {
      const g = tf.randomNormal([1000, 7], 0, 1 / t, 'float32', 10 + t);
      opt.step({ [w.name]: g });
      const [np, nm, nv] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(1 - b2 ** t)), eps);
        return [tf.sub(tf.mul(p, 1 - lr * wd), tf.mul(tf.div(m1, denom), lr / (1 - b1 ** t))), m1, v1];
      });
      tf.dispose([p, m, v, g]);
      [p, m, v] = [np, nm, nv];
      expect(Array.from(w.dataSync())).toEqual(Array.from(p.dataSync()));
      const { tensors } = opt.stateDict();
      expect(Array.from(tensors['exp_avg.w'].dataSync())).toEqual(Array.from(m.dataSync()));
      expect(Array.from(tensors['exp_avg_sq.w'].dataSync())).toEqual(Array.from(v.dataSync()));
      tf.dispose(Object.values(tensors));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p, m, v, w]);
  });

  it('refuses invalid hyper-parameters', () => {
    expect(() => new AdamW([], { lr: -1 })).toThrow('invalid lr -1');
    expect(() => new AdamW([], { betas: [0.9, 1] })).toThrow('invalid beta2 1');
  });
});
