import sharp from 'sharp';
import { ImageRejected } from './errors.js';
import { emptyEvidence, hasC2pa, type MetadataEvidence } from './evidence.js';
import { EvidencePool } from './evidence-pool.js';
import { checkStructure, metadataView, pixelView } from './structure.js';
import { mimeTypes, sniffFormat, type ImageFormat } from './sniff.js';

// One libvips thread per operation: the services run many requests at once on few cores.
sharp.concurrency(1);
sharp.cache(false);

/** Tightly packed 8-bit sRGB pixels, 3 channels, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
}

export interface NormalisedUpload {
  image: RgbImage;
  format: ImageFormat;
  mime: string;
  original: { width: number; height: number; bytes: number; orientation: number };
  evidence: MetadataEvidence;
  decodeMs: number;
}

export interface UploadLimits {
  maxBytes: number;
  maxPixels: number;
  workingSize: number;
}

let pool: EvidencePool | undefined;

/**
 * Metadata evidence within a budget (issue 11): only the metadata segments are cut out (bounded,
 * on this thread), then parsed in a worker thread with a time and heap cap. Whatever is not read
 * is named in `skipped`; the pixel verdict never waits on more than the budget.
 */
export async function readEvidence(buf: Buffer, format: ImageFormat): Promise<MetadataEvidence> {
  const view = metadataView(buf, format);
  pool ??= new EvidencePool();
  const outcome = await pool.extract(view.bytes);
  const evidence = 'evidence' in outcome ? outcome.evidence : emptyEvidence([outcome.skipped]);
  evidence.skipped = [...view.skipped, ...evidence.skipped];
  evidence.c2pa_present = hasC2pa(buf);
  return evidence;
}

export const defaultLimits: UploadLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000, workingSize: 512 };

let heifDecodes: boolean | undefined;

/** Whether this sharp build can decode HEIC (HEVC); prebuilt sharp ships AVIF only. */
export async function canDecodeHeic(): Promise<boolean> {
  if (heifDecodes === undefined) {
    // A 1x1 HEVC-coded HEIF would settle it; sharp reports the compression it supports instead.
    const info = (sharp as unknown as { versions?: Record<string, string> }).versions ?? {};
    heifDecodes = Boolean(info.heif) && Boolean((sharp.format as any).heif?.input?.buffer) && Boolean(info.de265 ?? info.libde265);
  }
  return heifDecodes;
}

/**
 * Validates an upload and reduces it to working pixels: EXIF orientation applied, sRGB 8-bit,
 * alpha flattened onto neutral grey, long side at most `workingSize`. The metadata evidence is
 * read first, because the returned pixels no longer carry any.
 */
export async function normaliseUpload(buf: Buffer, limits: UploadLimits = defaultLimits): Promise<NormalisedUpload> {
  const started = performance.now();
  if (buf.length === 0) throw new ImageRejected(400, 'empty_body', 'The upload is empty.');
  if (buf.length > limits.maxBytes) {
    throw new ImageRejected(413, 'payload_too_large', `The upload is ${buf.length} bytes; the limit is ${limits.maxBytes}.`);
  }
  const format = sniffFormat(buf);
  if (!format) throw new ImageRejected(415, 'unsupported_media_type', 'The file is not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF, TIFF, HEIC).');
  if (format === 'heic' && !(await canDecodeHeic())) {
    throw new ImageRejected(415, 'heic_unsupported', 'HEIC images cannot be decoded by this server; convert to JPEG or PNG.');
  }

  checkStructure(buf, format);
  const pixels = pixelView(buf, format);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(pixels, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageRejected(422, 'corrupt_image', `The image could not be read: ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageRejected(422, 'corrupt_image', 'The image has no dimensions.');
  // Checked from the header, before any pixel is decoded: a decompression bomb is refused cheaply.
  if (width * height > limits.maxPixels) {
    throw new ImageRejected(422, 'too_many_pixels', `The image is ${width}x${height} (${width * height} pixels); the limit is ${limits.maxPixels}.`);
  }
  // Metadata is parsed while the pixels decode; a failed decode waits for nothing.
  const evidencePending = readEvidence(buf, format);
  evidencePending.catch(() => undefined);

  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await sharp(pixels, { limitInputPixels: limits.maxPixels, failOn: 'truncated', pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: { r: 128, g: 128, b: 128 } })
      .resize({ width: limits.workingSize, height: limits.workingSize, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageRejected(422, 'corrupt_image', `The image is corrupt or truncated: ${(err as Error).message}`);
  }
  if (out.info.channels !== 3) throw new ImageRejected(422, 'corrupt_image', `Unexpected channel count ${out.info.channels}.`);
  const evidence = await evidencePending;
  return {
    image: { width: out.info.width, height: out.info.height, data: out.data },
    format,
    mime: mimeTypes[format],
    original: { width, height, bytes: buf.length, orientation: meta.orientation ?? 1 },
    evidence,
    decodeMs: performance.now() - started,
  };
}

/** Resizes packed RGB to exactly width x height (bilinear), as the models' preprocessing asks. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<Buffer> {
  if (img.width === width && img.height === height) return img.data;
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
}

/** Crops a rectangle (clamped to the image) out of packed RGB. */
export function cropRgb(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.ceil(x + w));
  const y1 = Math.min(img.height, Math.ceil(y + h));
  const cw = Math.max(1, x1 - x0);
  const ch = Math.max(1, y1 - y0);
  const out = Buffer.alloc(cw * ch * 3);
  for (let row = 0; row < ch; row++) {
    const src = ((y0 + row) * img.width + x0) * 3;
    img.data.copy(out, row * cw * 3, src, src + cw * 3);
  }
  return { width: cw, height: ch, data: out };
}

/** Decodes any supported image file to packed RGB without the upload checks (CLI, eval, tests). */
export async function decodeToRgb(input: Buffer | string, maxSide?: number): Promise<RgbImage> {
  let pipeline = sharp(input, { pages: 1 }).rotate().toColourspace('srgb').flatten({ background: { r: 128, g: 128, b: 128 } });
  if (maxSide) pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}
