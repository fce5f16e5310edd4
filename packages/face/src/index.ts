export { FaceStage, mergeDetections, type Face, type FaceStageOptions } from './face-stage.js';
export { applyAffine, invertAffine, estimateSimilarity, warpAffine, fivePoints, type Affine } from './align.js';
export { CANONICAL_FIVE_POINTS } from './template.js';
export { TinyFaceDetector, nonMaxSuppression, type RawDetection } from './detector.js';
export { LandmarkNet, MIRROR_68, REFINED_CROP_SCALE, faceCropRect, refinedLandmarkCrop } from './landmarks.js';
export { cropPadResizeNchw, type IntRect } from './preprocess.js';
export { readFaceModelSpec, type FaceModelSpec } from './spec.js';
