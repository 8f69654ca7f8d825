import { auc, trapezoidArea } from './auc';
import { rocCurve } from './roc';
import { classificationMetrics, confusionAtThreshold, confusionMatrix, youdenThreshold } from './threshold';
import { multiclassAuc } from './multiclass';

describe('rocCurve', () => {
  const y = [0, 0, 1, 1];
  const s = [0.1, 0.4, 0.35, 0.8];

  test('matches scikit-learn 1.2 on its documentation example', () => {
    const r = rocCurve([1, 1, 2, 2].map((v) => v - 1), s);
    expect(Array.from(r.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(r.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(r.thresholds)).toEqual([1.8, 0.8, 0.4, 0.35, 0.1]);
  });

  test('firstThreshold infinity is scikit-learn >= 1.3', () => {
    expect(rocCurve(y, s, { firstThreshold: 'infinity' }).thresholds[0]).toBe(Infinity);
  });

  test('drops collinear points unless told not to', () => {
    const yy = [0, 0, 0, 1, 1, 1];
    const ss = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    expect(Array.from(rocCurve(yy, ss).tpr)).toEqual([0, 1 / 3, 1, 1]);
    expect(rocCurve(yy, ss, { dropIntermediate: false }).tpr.length).toBe(7);
  });

  test('one class only gives NaN rates, as scikit-learn (which warns)', () => {
    const r = rocCurve([1, 1, 1], [0.2, 0.5, 0.9]);
    expect(Array.from(r.fpr).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.tpr)).toEqual([0, 1 / 3, 1]);
  });

  test('bad input throws a clear error', () => {
    expect(() => rocCurve([0, 1], [0.5])).toThrow('labels and scores must have equal length, got 2 labels and 1 scores');
    expect(() => rocCurve([0, 2], [0.5, 0.6])).toThrow('labels must be 0/1 or false/true, got 2 at index 1');
    expect(() => rocCurve([0, 1], [NaN, 0.6])).toThrow('scores must be numbers (not NaN), got NaN at index 0');
    expect(() => rocCurve([], [])).toThrow('expected at least one case');
  });
});

describe('auc', () => {
  test('counts ties one half and agrees with the trapezoid of the curve', () => {
    const y = [0, 1, 0, 1, 1, 0, 1];
    const s = [0.2, 0.2, 0.5, 0.7, 0.5, 0.1, 0.9];
    // pairs: positives {0.2, 0.7, 0.5, 0.9} vs negatives {0.2, 0.5, 0.1}: 12 pairs, 2 ties
    expect(auc(y, s)).toBeCloseTo((9 + 2 * 0.5) / 12, 15);
    const r = rocCurve(y, s);
    expect(trapezoidArea(r.fpr, r.tpr)).toBeCloseTo(auc(y, s), 15);
    expect(auc(y.map(Boolean), s)).toBe(auc(y, s));
  });

  test('perfect, reversed and infinite scores', () => {
    expect(auc([0, 0, 1, 1], [1, 2, 3, 4])).toBe(1);
    expect(auc([0, 0, 1, 1], [4, 3, 2, 1])).toBe(0);
    expect(auc([0, 1, 1], [-Infinity, Infinity, 0])).toBe(1);
    expect(auc([0, 1], [-0, 0])).toBe(0.5);
  });

  test('one class only throws, as scikit-learn and pROC do', () => {
    expect(() => auc([1, 1], [0.1, 0.2])).toThrow('both classes are needed, got no negative (label 0) cases among 2');
    expect(() => auc([0, 0], [0.1, 0.2])).toThrow('no positive (label 1)');
  });

  test('trapezoidArea rejects non-monotonic x', () => {
    expect(() => trapezoidArea([0, 1, 0.5], [0, 1, 1])).toThrow('monotonic');
    expect(trapezoidArea([1, 0.5, 0], [1, 0.75, 0])).toBeCloseTo(0.625, 15);
  });
});

describe('thresholds and confusion', () => {
  test('Youden picks the first maximum of tpr - fpr and uses >=', () => {
    const y = [0, 0, 1, 1];
    const s = [0.1, 0.4, 0.35, 0.8];
    const p = youdenThreshold(y, s);
    expect(p).toEqual({ threshold: 0.8, sensitivity: 0.5, specificity: 1, youden: 0.5, index: 1 });
    expect(confusionAtThreshold(y, s, p.threshold)).toEqual([
      [2, 0],
      [1, 1],
    ]);
  });

  test('>= keeps tied cases on the positive side', () => {
    const y = [0, 1, 1, 0, 0];
    const s = [0.5, 0.5, 0.9, 0.1, 0.2];
    const p = youdenThreshold(y, s);
    expect(p.threshold).toBe(0.5);
    expect(confusionAtThreshold(y, s, p.threshold)).toEqual([
      [2, 1],
      [0, 2],
    ]);
  });

  test('confusion matrix and metrics, with NaN for 0/0', () => {
    const cm = confusionMatrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0]);
    expect(cm).toEqual([
      [1, 1],
      [1, 2],
    ]);
    const m = classificationMetrics(cm);
    expect(m.accuracy).toBe(0.6);
    expect(m.sensitivity).toBeCloseTo(2 / 3, 15);
    expect(m.specificity).toBe(0.5);
    expect(m.ppv).toBeCloseTo(2 / 3, 15);
    expect(m.npv).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 15);
    expect(classificationMetrics([[3, 0], [0, 0]]).sensitivity).toBeNaN();
    expect(() => classificationMetrics([[1.5, 0], [0, 1]])).toThrow('counts must be integers >= 0');
    expect(() => confusionMatrix([0, 1], [1])).toThrow('equal length');
  });
});

describe('multiclassAuc', () => {
  test('one-vs-rest per class, macro and weighted averages', () => {
    const labels = [0, 1, 2, 2, 1, 0];
    const scores = [
      [0.7, 0.2, 0.1],
      [0.2, 0.5, 0.3],
      [0.1, 0.3, 0.6],
      [0.3, 0.4, 0.3],
      [0.5, 0.3, 0.2],
      [0.4, 0.4, 0.2],
    ];
    const r = multiclassAuc(labels, scores);
    for (let k = 0; k < 3; k++) {
      expect(r.perClass[k]).toBe(auc(labels.map((l) => (l === k ? 1 : 0)), scores.map((row) => row[k])));
    }
    expect(r.macro).toBeCloseTo((r.perClass[0] + r.perClass[1] + r.perClass[2]) / 3, 15);
    expect(r.weighted).toBeCloseTo(r.macro, 15); // equal class sizes
  });

  test('a missing class or a bad label throws', () => {
    expect(() => multiclassAuc([0, 0, 1], [[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0]])).toThrow('class(es) 2');
    expect(() => multiclassAuc([0, 3], [[1, 0], [0, 1]])).toThrow('labels must be integers in [0, 1], got 3 at index 1');
    expect(() => multiclassAuc([0, 1], [[1, 0], [0, 1, 0]])).toThrow('every score row needs 2 values, got 3 at row 1');
  });
});
