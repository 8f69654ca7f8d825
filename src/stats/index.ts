/**
 * `mst-ts/stats`: ROC curves, AUC (full and partial), DeLong (pairs and many models), bootstrap
 * intervals, Venkatraman's test, power, calibration, decision curves, thresholds and figures on
 * plain arrays.
 * Imports no tensor library (a test checks that loading it pulls in no `@tensorflow` module).
 */
export { auc, aucOf, trapezoidArea } from './auc';
export { toBinaryData } from './binary_data';
export type { BinaryData, BinaryLabels } from './binary_data';
export { bootstrapAuc, bootstrapMetric, bootstrapTest, bootstrapTestUnpaired, bootstrapRocBand, aucJackknifeInfluence } from './bootstrap';
export type { BootstrapOptions, BootstrapResult, BinaryMetric, BootstrapTestResult, RocBandOptions, RocBand } from './bootstrap';
export { bootstrapInterval, normInter } from './bootstrap_ci';
export type { BootstrapCiType, BootstrapIntervalOptions } from './bootstrap_ci';
export { calibration } from './calibration';
export type { CalibrationOptions, CalibrationResult, CalibrationBin, CalibrationStrategy, BrierDecomposition } from './calibration';
export { calibrationFigureSvg, calibrationFigurePng } from './calibration_figure';
export type { CalibrationFigureOptions } from './calibration_figure';
export { chiSquareSf } from './chi_square';
export { ciSensitivity, ciSpecificity, coordsTest, coordsTestUnpaired } from './coords_bootstrap';
export type { CoordsCiResult, CoordsTestAt, CoordsTestResult } from './coords_bootstrap';
export { decisionCurve } from './decision_curve';
export type { DecisionCurve, DecisionCurveOptions } from './decision_curve';
export { decisionFigureSvg, decisionFigurePng } from './decision_figure';
export type { DecisionFigureOptions } from './decision_figure';
export { delongMulti } from './delong_multi';
export type { DelongMultiResult, DelongModel, DelongPair, DelongGlobalTest } from './delong_multi';
export { fitLogistic } from './logistic';
export type { LogisticFit } from './logistic';
export { pAdjust } from './p_adjust';
export type { PAdjustMethod } from './p_adjust';
export { partialAuc, bootstrapPartialAuc, bootstrapPartialAucTest } from './partial_auc';
export type { PartialAucOptions, PartialAucFocus } from './partial_auc';
export { powerRocTest, powerRocTest2, powerRocTestPaired, binormalFit } from './power';
export type { PowerRocOptions, PowerRocResult, PowerRocTest2Options, PowerRocPairedOptions, PowerAlternative, BinormalPair } from './power';
export { procRoc, sensitivityAtSpecificity, specificityAtSensitivity } from './roc_coords';
export type { ProcRocCurve, CoordInput } from './roc_coords';
export { symmetricEigen } from './symmetric_eigen';
export type { SymmetricEigen } from './symmetric_eigen';
export { venkatramanTest, venkatramanTestUnpaired } from './venkatraman';
export type { VenkatramanOptions, VenkatramanResult } from './venkatraman';
export { delongPlacements, delongAuc, delongTest, delongTestUnpaired } from './delong';
export type { DelongPlacements, DelongOptions, DelongAucResult, DelongPairedResult, DelongUnpairedResult } from './delong';
export { multiclassAuc } from './multiclass';
export type { MulticlassAucResult } from './multiclass';
export { normalPdf, normalCdf, normalSf, normalLogSf, normalTwoSidedP, normalQuantile } from './normal';
export { argsortFloat64 } from './rank';
export { rocCurve } from './roc';
export type { RocCurve, RocCurveOptions } from './roc';
export { logGamma, logBeta, betaIncReg, gammaIncUpperReg } from './special';
export { studentTCdf, studentTwoSidedP } from './student_t';
export { mean, standardDeviation, quantileSorted } from './summary';
export { youdenThreshold, confusionMatrix, confusionAtThreshold, classificationMetrics } from './threshold';
export type { YoudenPoint, ConfusionMatrix, ClassificationMetrics } from './threshold';
export { rocSeries, rocFigureSvg, rocFigurePng } from './roc_figure';
export type { RocSeries, RocSeriesOptions, RocFigureOptions } from './roc_figure';
export { confusionFigureSvg, confusionFigurePng } from './confusion_figure';
export type { ConfusionFigureOptions } from './confusion_figure';
