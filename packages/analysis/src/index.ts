export { Analyser, type AnalyserDeps, type EditTypeClassifier } from './analyser.js';
export { decide, combine, type DecisionRule } from './decision.js';
export { compose, type Affine, type FaceFinder, type FoundFace } from './face-finder.js';
export { localEditTypeClassifier, loadFaceFinder } from './local.js';
