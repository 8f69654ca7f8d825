import * as tf from '@tensorflow/tfjs';
import { loadSafetensors } from '../../src/io/safetensors';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { DinoHead } from '../../src/pretrain/dino_head';
import { dinoLoss, teacherTargets, updateCenter } from '../../src/pretrain/dino_loss';
import { ibotPatchLoss, maskedPatchIndex } from '../../src/pretrain/ibot';
import { koleoLoss } from '../../src/pretrain/koleo';
import { cosineSchedule, teacherTempSchedule } from '../../src/pretrain/schedules';
import { clipGradients, emaUpdate } from '../../src/pretrain/teacher';
import { fixturePath, maxAbsDiff } from '../helpers';

/**
 * DINO's pieces against tools/reference/dino_ref.py (PyTorch 1.13): the projection head, the
 * DINO loss and its gradients through the head, the centre update, gradient clipping, the
 * teacher's EMA update, KoLeo, the iBOT patch loss and the schedules, to 1e-5.
 */

const HEAD = { inDim: 8, outDim: 32, hiddenDim: 16, bottleneckDim: 6 };
const TOL = 1e-5;
let ref: StateDict;

beforeAll(async () => {
  ref = await loadSafetensors(fixturePath('pretrain', 'dino.safetensors'));
});
afterAll(() => disposeStateDict(ref));

function under(prefix: string): StateDict {
  const out: StateDict = {};
  for (const [k, t] of Object.entries(ref)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = t;
  return out;
}

function head(name: 'student' | 'teacher'): DinoHead {
  const h = new DinoHead(HEAD);
  h.loadStateDict(under(`${name}_head.`));
  return h;
}

/** Gradients keyed by variable name, re-expressed as the head's state dict (PyTorch layout). */
function asStateDict(h: DinoHead, grads: tf.NamedTensorMap): StateDict {
  const copy = new DinoHead(HEAD);
  for (const [name, v] of copy.namedParameters()) {
    const own = h.namedParameters().find(([n]) => n === name)?.[1] as tf.Variable;
    const g = grads[own.name];
    if (g) v.assign(g);
    else tf.tidy(() => v.assign(tf.fill(v.shape, NaN)));
  }
  const dict = copy.stateDict();
  copy.dispose();
  return dict;
}

function expectHeadDict(dict: StateDict, prefix: string, keys: string[]): void {
  for (const k of keys) expect([k, maxAbsDiff(dict[k], ref[`${prefix}${k}`]) < TOL]).toEqual([k, true]);
}

describe('DINO parity with PyTorch', () => {
  const trainable = ['mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias', 'mlp.4.weight', 'mlp.4.bias', 'last_layer.weight_v'];

  it('projects with the head, scores the DINO loss and back-propagates it through the head as torch', () => {
    const before = tf.memory().numTensors;
    const student = head('student');
    const teacher = head('teacher');
    expect(student.lastLayer.weightG.trainable).toBe(false);
    const features = tf.variable(ref.student_features);
    const vars = [features, ...student.namedParameters().map(([, v]) => v).filter((v) => v.trainable)];
    const teacherOut = teacher.forward(ref.teacher_features);
    const targets = teacherTargets(teacherOut, ref.center, 0.05);
    const { value, grads } = tf.variableGrads(() => {
      const out = student.forward(features);
      return dinoLoss(out, targets, 5, 0.1);
    }, vars);
    const studentOut = student.forward(ref.student_features);
    expect(maxAbsDiff(studentOut, ref.student_out)).toBeLessThan(TOL);
    expect(maxAbsDiff(teacherOut, ref.teacher_out)).toBeLessThan(TOL);
    expect(Math.abs(value.dataSync()[0] - ref.dino_loss.dataSync()[0])).toBeLessThan(TOL);
    expect(maxAbsDiff(grads[features.name], ref['grad.student_features'])).toBeLessThan(TOL);
    const g = asStateDict(student, grads);
    expectHeadDict(g, 'grad.student_head.', trainable);
    disposeStateDict(g);

    const clipped = clipGradients({ ...grads }, 0.05);
    const c = asStateDict(student, clipped);
    expectHeadDict(c, 'clipped.student_head.', trainable);
    disposeStateDict(c);
    tf.dispose(clipped);

    const center = tf.variable(ref.center);
    updateCenter(center, teacherOut, 0.9);
    expect(maxAbsDiff(center, ref.center_after)).toBeLessThan(TOL);

    emaUpdate(teacher, student, 0.9);
    const ema = teacher.stateDict();
    expectHeadDict(ema, 'ema.teacher_head.', [...trainable, 'last_layer.weight_g']);
    disposeStateDict(ema);

    tf.dispose([value, features, teacherOut, targets, studentOut, center]);
    student.dispose();
    teacher.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes KoLeo and its gradient as DINOv2', () => {
    const before = tf.memory().numTensors;
    const x = tf.variable(ref.koleo_input);
    const { value, grads } = tf.variableGrads(() => koleoLoss(x as unknown as tf.Tensor2D), [x]);
    expect(Math.abs(value.dataSync()[0] - ref.koleo_loss.dataSync()[0])).toBeLessThan(TOL);
    expect(maxAbsDiff(grads[x.name], ref['grad.koleo_input'])).toBeLessThan(TOL);
    tf.dispose([x, value, grads]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes the iBOT patch loss and its gradient as DINOv2', () => {
    const before = tf.memory().numTensors;
    const masks = Uint8Array.from(ref.ibot_masks.dataSync());
    const { indices, weights } = maskedPatchIndex(masks, 5);
    expect(Array.from(indices)).toEqual([1, 3, 10, 11, 12, 14, 17]);
    const s = tf.variable(ref.ibot_student);
    const targets = teacherTargets(ref.ibot_teacher as tf.Tensor2D, ref.ibot_center, 0.05);
    const w = tf.tensor1d(weights);
    const { value, grads } = tf.variableGrads(() => ibotPatchLoss(s as unknown as tf.Tensor2D, targets, w, 4, 0.1), [s]);
    expect(Math.abs(value.dataSync()[0] - ref.ibot_loss.dataSync()[0]) / ref.ibot_loss.dataSync()[0]).toBeLessThan(TOL);
    expect(maxAbsDiff(grads[s.name], ref['grad.ibot_student'])).toBeLessThan(TOL);
    tf.dispose([s, targets, w, value, grads]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('follows the cosine and teacher-temperature schedules', () => {
    const close = (a: ArrayLike<number>, b: tf.Tensor): void => {
      const want = b.dataSync();
      expect(a.length).toBe(want.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - want[i])).toBeLessThan(1e-7 * Math.max(1, Math.abs(want[i])));
    };
    close(cosineSchedule(0.996, 1, 5, 3), ref['schedule.momentum']);
    close(cosineSchedule(5e-4, 1e-6, 5, 3, 2), ref['schedule.lr']);
    close(teacherTempSchedule(0.04, 0.07, 3, 5), ref['schedule.teacher_temp']);
  });
});
