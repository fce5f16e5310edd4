export { readModelSpec, resolveModelDir, sha256File, decideLabel, editedProbability, ModelSpecError, type ModelSpec, type SecondOpinion, type LabelDecision, type ConfidenceMap } from './spec.js';
export { createSession, sessionOptions, ortUsage, modelLabel, ort, type OrtUsage } from './session.js';
export { ImageClassifierModel, type Prediction, type ActivationMap, type PredictUsage } from './classifier-model.js';
export { MicroBatcher } from './batcher.js';
export { Float32Scratch, float32Scratch } from './scratch.js';
