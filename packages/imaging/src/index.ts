export { ImageRejected } from './errors.js';
export { sniffFormat, mimeTypes, type ImageFormat } from './sniff.js';
export { extractEvidence, hasC2pa, type MetadataEvidence } from './evidence.js';
export {
  normaliseUpload,
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
