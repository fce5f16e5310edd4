export { readModelSpec, resolveModelDir, sha256File, decideLabel, editedProbability, ModelSpecError, type ModelSpec, type SecondOpinion, type LabelDecision, type ConfidenceMap } from './spec.js';
export { createSession, sessionOptions, ortUsage, modelLabel, ort, type OrtUsage } from './session.js';
export { ImageClassifierModel, type Prediction, type ActivationMap } from './classifier-model.js';
export { MicroBatcher } from './batcher.js';
