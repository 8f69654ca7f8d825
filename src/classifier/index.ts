export { Classifier, loadClassifier } from './classifier';
export type { ClassifierInput, ClassifierPrediction, ClassifierExplanation, ClassifierExplainOptions, LoadClassifierOptions, SaliencyVolume, SequenceScans } from './classifier';
