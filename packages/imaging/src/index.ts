export { ImageRejected } from './errors.js';
export { sniffFormat, mimeTypes, type ImageFormat } from './sniff.js';
export { extractEvidence, emptyEvidence, hasC2pa, type MetadataEvidence } from './evidence.js';
export { EvidencePool, defaultEvidenceBudget, type EvidenceBudget, type EvidenceOutcome } from './evidence-pool.js';
export { checkStructure, metadataView, pixelView, METADATA_LIMITS } from './structure.js';
export {
  normaliseUpload,
  readEvidence,
  resizeRgb,
  cropRgb,
  decodeToRgb,
  encodePng,
  canDecodeHeic,
  defaultLimits,
  type RgbImage,
  type NormalisedUpload,
  type UploadLimits,
} from './normalise.js';
