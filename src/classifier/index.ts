export { Classifier, loadClassifier } from './classifier';
export type { ClassifierInput, ClassifierPrediction, ClassifierExplanation, ClassifierExplainOptions, LoadClassifierOptions, ClassifierOptions, SaliencyVolume, SequenceScans } from './classifier';
