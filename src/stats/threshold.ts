import { toBinaryData, type BinaryLabels } from './binary_data';
import { rocCurve } from './roc';

/** The Youden-optimal operating point of an ROC curve. */
export interface YoudenPoint {
  /** Score threshold; a case is called positive when its score >= threshold. */
  threshold: number;
  /** Sensitivity (tpr) at the threshold. */
  sensitivity: number;
  /** Specificity (1 - fpr) at the threshold. */
  specificity: number;
  /** Youden's J = sensitivity + specificity - 1. */
  youden: number;
  /** Index of the point on the full (no points dropped) curve of {@link rocCurve}. */
  index: number;
}

/**
 * The threshold maximising Youden's J = tpr - fpr on the full ROC curve (no points dropped); the
 * first maximum from the strictest threshold wins, as numpy's `argmax` in the MST authors' code.
 * Apply it with `score >= threshold` (the authors' convention: `>` would move tied cases).
 * Throws when a class is absent or on the input errors of {@link rocCurve}.
 *
 * @example
 * youdenThreshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * // returns { threshold: 0.8, sensitivity: 0.5, specificity: 1, youden: 0.5, index: 1 }
 */
export function youdenThreshold(labels: BinaryLabels, scores: ArrayLike<number>): YoudenPoint {
  toBinaryData(labels, scores, 'youdenThreshold');
  const { fpr, tpr, thresholds } = rocCurve(labels, scores, { dropIntermediate: false });
  let best = 0;
  for (let i = 1; i < fpr.length; i++) if (tpr[i] - fpr[i] > tpr[best] - fpr[best]) best = i;
  return {
    threshold: thresholds[best],
    sensitivity: tpr[best],
    specificity: 1 - fpr[best],
    youden: tpr[best] - fpr[best],
    index: best,
  };
}

/** [[TN, FP], [FN, TP]]: rows are the truth (0, 1), columns the prediction (0, 1), as scikit-learn. */
export type ConfusionMatrix = [[number, number], [number, number]];

/**
 * Confusion matrix `[[TN, FP], [FN, TP]]` of binary predictions (0/1 or booleans).
 *
 * @example
 * confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1]); // returns [[1, 1], [0, 2]]
 */
export function confusionMatrix(labels: BinaryLabels, predictions: BinaryLabels): ConfusionMatrix {
  const pred = toBinaryData(predictions, new Float64Array(predictions.length), 'confusionMatrix (predictions)', false);
  const truth = toBinaryData(labels, new Float64Array(labels.length), 'confusionMatrix (labels)', false);
  if (pred.labels.length !== truth.labels.length) {
    throw new Error(`confusionMatrix: labels and predictions must have equal length, got ${truth.labels.length} and ${pred.labels.length}`);
  }
  const cm: ConfusionMatrix = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < truth.labels.length; i++) cm[truth.labels[i]][pred.labels[i]]++;
  return cm;
}

/**
 * Confusion matrix when a case is called positive at `score >= threshold`.
 *
 * @example
 * confusionAtThreshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.35); // returns [[1, 1], [0, 2]]
 */
export function confusionAtThreshold(labels: BinaryLabels, scores: ArrayLike<number>, threshold: number): ConfusionMatrix {
  const d = toBinaryData(labels, scores, 'confusionAtThreshold', false);
  if (Number.isNaN(threshold)) throw new Error('confusionAtThreshold: threshold must be a number, got NaN');
  const cm: ConfusionMatrix = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < d.labels.length; i++) cm[d.labels[i]][d.scores[i] >= threshold ? 1 : 0]++;
  return cm;
}

/** Metrics of a confusion matrix; a 0/0 ratio is NaN (the authors' `safe_div`). */
export interface ClassificationMetrics {
  /** (TP + TN) / N. */
  accuracy: number;
  /** TP / (TP + FN), the recall / true positive rate. */
  sensitivity: number;
  /** TN / (TN + FP), the true negative rate. */
  specificity: number;
  /** TP / (TP + FP), the positive predictive value (precision). */
  ppv: number;
  /** TN / (TN + FN), the negative predictive value. */
  npv: number;
  /** 2 TP / (2 TP + FP + FN). */
  f1: number;
}

/**
 * Accuracy, sensitivity, specificity, PPV, NPV and F1 of `[[TN, FP], [FN, TP]]`; a ratio with a
 * zero denominator is NaN.
 *
 * @example
 * classificationMetrics([[1, 1], [0, 2]]).ppv; // returns 0.6666666666666666
 */
export function classificationMetrics(cm: ConfusionMatrix): ClassificationMetrics {
  const [[tn, fp], [fn, tp]] = cm;
  for (const v of [tn, fp, fn, tp]) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`classificationMetrics: counts must be integers >= 0, got [[${tn}, ${fp}], [${fn}, ${tp}]]`);
  }
  const div = (a: number, b: number): number => (b === 0 ? NaN : a / b);
  return {
    accuracy: div(tp + tn, tn + fp + fn + tp),
    sensitivity: div(tp, tp + fn),
    specificity: div(tn, tn + fp),
    ppv: div(tp, tp + fp),
    npv: div(tn, tn + fn),
    f1: div(2 * tp, 2 * tp + fp + fn),
  };
}
