export { Classifier, loadClassifier } from './classifier';
export type { ClassifierInput, ClassifierPrediction, ClassifierExplanation, ClassifierExplainOptions, ClassifierReadOptions, LoadClassifierOptions, ClassifierOptions, SaliencyVolume, SequenceScans } from './classifier';
