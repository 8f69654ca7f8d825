/**
 * `mst-ts/stats`: ROC curves, AUC, DeLong, bootstrap, thresholds and figures on plain arrays.
 * Imports no tensor library (a test checks that loading it pulls in no `@tensorflow` module).
 */
export { auc, aucOf, trapezoidArea } from './auc';
export { toBinaryData } from './binary_data';
export type { BinaryData, BinaryLabels } from './binary_data';
export { bootstrapAuc, bootstrapMetric, bootstrapTest, bootstrapTestUnpaired, bootstrapRocBand } from './bootstrap';
export type { BootstrapOptions, BootstrapResult, BinaryMetric, BootstrapTestResult, RocBandOptions, RocBand } from './bootstrap';
export { delongPlacements, delongAuc, delongTest, delongTestUnpaired } from './delong';
export type { DelongPlacements, DelongOptions, DelongAucResult, DelongPairedResult, DelongUnpairedResult } from './delong';
export { multiclassAuc } from './multiclass';
export type { MulticlassAucResult } from './multiclass';
export { normalPdf, normalCdf, normalSf, normalLogSf, normalTwoSidedP, normalQuantile } from './normal';
export { argsortFloat64 } from './rank';
export { rocCurve } from './roc';
export type { RocCurve, RocCurveOptions } from './roc';
export { logGamma, logBeta, betaIncReg } from './special';
export { studentTCdf, studentTwoSidedP } from './student_t';
export { mean, standardDeviation, quantileSorted } from './summary';
export { youdenThreshold, confusionMatrix, confusionAtThreshold, classificationMetrics } from './threshold';
export type { YoudenPoint, ConfusionMatrix, ClassificationMetrics } from './threshold';
export { rocSeries, rocFigureSvg, rocFigurePng } from './roc_figure';
export type { RocSeries, RocSeriesOptions, RocFigureOptions } from './roc_figure';
export { confusionFigureSvg, confusionFigurePng } from './confusion_figure';
export type { ConfusionFigureOptions } from './confusion_figure';
