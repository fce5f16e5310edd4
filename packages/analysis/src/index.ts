export { Analyser, faceCropOf, type AnalyserDeps, type AnalysisInput, type EditTypeAnswer, type EditTypeClassifier } from './analyser.js';
export { createAnalyser, analysisInput, type CreateAnalyserOptions, type LoadedAnalyser } from './create.js';
export { decide, combine, type DecisionRule } from './decision.js';
export { compose, type Affine, type FaceCropSpec, type FaceFinder, type FoundFace } from './face-finder.js';
export { localEditTypeClassifier } from './local.js';
