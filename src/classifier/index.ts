export { Classifier, loadClassifier } from './classifier';
export type { ClassifierInput, ClassifierPrediction, ClassifierExplanation, ClassifierExplainOptions, LoadClassifierOptions, SaliencyVolume } from './classifier';
