import { ImageRejected } from './errors.js';
import type { ImageFormat } from './sniff.js';

/**
 * Cheap, bounded walks over the container structure of an upload (issue 11). Each is linear in
 * the number of segments or chunks and copies at most a few hundred KiB, so a hostile file costs
 * the event loop microseconds, not seconds:
 *
 * - `metadataView` cuts out only what the metadata evidence needs (EXIF, the first XMP packet,
 *   ICC, text chunks), with caps, and says what it left out;
 * - `pixelView` drops PNG text chunks before the decoder sees them (libspng refuses files with
 *   thousands of them, which are valid PNGs);
 * - `checkStructure` refuses files whose header claims more than the body holds (a JPEG with no
 *   scan data, a TIFF with 100 million strips).
 */

export const METADATA_LIMITS = {
  /** Largest single metadata item (PNG text chunk, eXIf) read. */
  itemBytes: 256 * 1024,
  /** Largest compressed text chunk read (zTXt, compressed iTXt): its inflated size is unknown. */
  compressedItemBytes: 64 * 1024,
  /** All metadata handed to the parser. */
  totalBytes: 1024 * 1024,
  /** PNG text chunks read. */
  textChunks: 64,
  /** JPEG comment segments read. */
  comments: 4,
};

export interface MetadataView {
  /** A small file of the same format holding only the metadata kept, or the whole upload. */
  bytes: Buffer;
  /** Plain-words notes on what was not read. */
  skipped: string[];
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);
const latin = (buf: Buffer, a: number, b: number) => buf.subarray(a, Math.min(b, buf.length)).toString('latin1');

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_EXIF = 'Exif\0\0';
const JPEG_XMP = 'http://ns.adobe.com/xap/1.0/\0';
const JPEG_XMP_EXT = 'http://ns.adobe.com/xmp/extension/\0';
const JPEG_ICC = 'ICC_PROFILE\0';
const JPEG_IPTC = 'Photoshop 3.0\0';

interface Chunk {
  type: string;
  start: number;
  end: number;
  dataStart: number;
  length: number;
}

/** PNG chunks in order; stops at IEND or at the first chunk that runs past the end. */
export function pngChunks(buf: Buffer): Chunk[] {
  const out: Chunk[] = [];
  let o = 8;
  while (o + 12 <= buf.length) {
    const length = buf.readUInt32BE(o);
    const end = o + 12 + length;
    if (end > buf.length) break;
    const type = latin(buf, o + 4, o + 8);
    out.push({ type, start: o, end, dataStart: o + 8, length });
    o = end;
    if (type === 'IEND') break;
  }
  return out;
}

interface Segment {
  marker: number;
  start: number;
  end: number;
  dataStart: number;
}

/** JPEG marker segments before the first scan; `sos` is the offset of the first SOS marker. */
export function jpegSegments(buf: Buffer): { segments: Segment[]; sos: number | null } {
  const segments: Segment[] = [];
  let o = 2;
  while (o + 4 <= buf.length) {
    if (buf[o] !== 0xff) return { segments, sos: null };
    const marker = buf[o + 1]!;
    if (marker === 0xff) {
      o += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    if (marker === 0xd9) return { segments, sos: null };
    const length = buf.readUInt16BE(o + 2);
    if (length < 2) return { segments, sos: null };
    if (marker === 0xda) return { segments, sos: o };
    const end = o + 2 + length;
    if (end > buf.length) return { segments, sos: null };
    segments.push({ marker, start: o, end, dataStart: o + 4 });
    o = end;
  }
  return { segments, sos: null };
}

function jpegMetadata(buf: Buffer): MetadataView {
  const skipped: string[] = [];
  const keep: Buffer[] = [Buffer.from([0xff, 0xd8])];
  let total = 0;
  let exif = 0;
  let xmp = 0;
  let extXmp = 0;
  let comments = 0;
  let icc = 0;
  let iptc = 0;
  const take = (s: Segment) => {
    if (total + (s.end - s.start) > METADATA_LIMITS.totalBytes) return false;
    keep.push(buf.subarray(s.start, s.end));
    total += s.end - s.start;
    return true;
  };
  for (const s of jpegSegments(buf).segments) {
    const head = latin(buf, s.dataStart, s.dataStart + 40);
    if (s.marker === 0xe1 && head.startsWith(JPEG_EXIF)) {
      if (exif++ === 0) take(s);
    } else if (s.marker === 0xe1 && head.startsWith(JPEG_XMP)) {
      if (xmp++ === 0) take(s);
    } else if (s.marker === 0xe1 && head.startsWith(JPEG_XMP_EXT)) {
      extXmp += s.end - s.start;
    } else if (s.marker === 0xe2 && head.startsWith(JPEG_ICC)) {
      if (icc + (s.end - s.start) <= METADATA_LIMITS.itemBytes && take(s)) icc += s.end - s.start;
    } else if (s.marker === 0xed && head.startsWith(JPEG_IPTC)) {
      if (iptc++ === 0) take(s);
    } else if (s.marker === 0xfe) {
      if (comments++ < METADATA_LIMITS.comments) take(s);
    }
  }
  if (exif > 1) skipped.push(`${exif - 1} extra EXIF segments were not read`);
  if (xmp > 1) skipped.push(`${xmp - 1} extra XMP packets were not read`);
  if (extXmp > 0) skipped.push(`extended XMP (${mb(extXmp)}) was not read`);
  if (comments > METADATA_LIMITS.comments) skipped.push(`${comments - METADATA_LIMITS.comments} JPEG comments were not read`);
  keep.push(Buffer.from([0xff, 0xd9]));
  return { bytes: Buffer.concat(keep), skipped };
}

const PNG_TEXT = new Set(['tEXt', 'iTXt', 'zTXt']);

function pngTextKeyword(buf: Buffer, c: Chunk): string {
  const end = buf.indexOf(0, c.dataStart);
  return latin(buf, c.dataStart, end >= 0 && end < c.dataStart + 80 ? end : c.dataStart + 79);
}

function pngCompressed(buf: Buffer, c: Chunk): boolean {
  if (c.type === 'zTXt') return true;
  if (c.type !== 'iTXt') return false;
  const nul = buf.indexOf(0, c.dataStart);
  return nul >= 0 && nul + 1 < c.end && buf[nul + 1] === 1;
}

function pngMetadata(buf: Buffer): MetadataView {
  const skipped: string[] = [];
  const keep: Buffer[] = [PNG_SIGNATURE];
  let total = 0;
  let texts = 0;
  let textsSkipped = 0;
  let exif = 0;
  let iccp = 0;
  const chunks = pngChunks(buf);
  for (const c of chunks) {
    const size = c.end - c.start;
    if (c.type === 'IHDR') {
      keep.push(buf.subarray(c.start, c.end));
    } else if (PNG_TEXT.has(c.type)) {
      const keyword = pngTextKeyword(buf, c);
      const limit = pngCompressed(buf, c) ? METADATA_LIMITS.compressedItemBytes : METADATA_LIMITS.itemBytes;
      if (c.length > limit) {
        skipped.push(`${keyword === 'XML:com.adobe.xmp' ? 'XMP packet' : `text chunk "${keyword.slice(0, 40)}"`} of ${mb(c.length)} was not read (limit ${mb(limit)})`);
      } else if (texts >= METADATA_LIMITS.textChunks || total + size > METADATA_LIMITS.totalBytes) {
        textsSkipped++;
      } else {
        texts++;
        total += size;
        keep.push(buf.subarray(c.start, c.end));
      }
    } else if (c.type === 'eXIf') {
      if (exif++ === 0 && c.length <= METADATA_LIMITS.itemBytes) {
        total += size;
        keep.push(buf.subarray(c.start, c.end));
      } else if (exif === 1) skipped.push(`EXIF chunk of ${mb(c.length)} was not read`);
    } else if (c.type === 'iCCP') {
      if (iccp++ === 0 && c.length <= METADATA_LIMITS.compressedItemBytes) {
        total += size;
        keep.push(buf.subarray(c.start, c.end));
      }
    }
  }
  if (textsSkipped > 0) skipped.push(`${textsSkipped} more text chunks were not read (limit ${METADATA_LIMITS.textChunks})`);
  keep.push(Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]));
  return { bytes: Buffer.concat(keep), skipped };
}

/**
 * Only the metadata of the upload, within `METADATA_LIMITS`. JPEG and PNG are cut down to their
 * metadata segments; other formats keep metadata in structures that cannot be cut cheaply, so
 * the whole file goes to the parser (which runs off the main thread with a time and memory budget).
 */
export function metadataView(buf: Buffer, format: ImageFormat): MetadataView {
  if (format === 'jpeg') return jpegMetadata(buf);
  if (format === 'png') return pngMetadata(buf);
  return { bytes: buf, skipped: [] };
}

// Ancillary PNG chunks that change how the pixels decode; every other ancillary chunk (text,
// time, private chunks) is dropped before decoding.
const PNG_PIXEL_ANCILLARY = new Set(['tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'pHYs', 'eXIf', 'bKGD', 'cICP', 'acTL', 'fcTL', 'fdAT']);

/** The bytes the decoder should see: PNGs without their text and private chunks, others as they are. */
export function pixelView(buf: Buffer, format: ImageFormat): Buffer {
  if (format !== 'png') return buf;
  const chunks = pngChunks(buf);
  const drop = chunks.filter((c) => /^[a-z]/.test(c.type) && !PNG_PIXEL_ANCILLARY.has(c.type));
  if (drop.length === 0) return buf;
  const parts: Buffer[] = [PNG_SIGNATURE];
  for (const c of chunks) if (!(/^[a-z]/.test(c.type) && !PNG_PIXEL_ANCILLARY.has(c.type))) parts.push(buf.subarray(c.start, c.end));
  // Whatever follows the last whole chunk (a truncated chunk) is kept, so truncation is still seen.
  const last = chunks.at(-1);
  if (last && last.type !== 'IEND' && last.end < buf.length) parts.push(buf.subarray(last.end));
  return Buffer.concat(parts);
}

const corrupt = (message: string) => new ImageRejected(422, 'corrupt_image', message);

function checkJpeg(buf: Buffer): void {
  const { segments, sos } = jpegSegments(buf);
  let width = 0;
  let height = 0;
  for (const s of segments) {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc && s.end - s.dataStart >= 5) {
      height = buf.readUInt16BE(s.dataStart + 1);
      width = buf.readUInt16BE(s.dataStart + 3);
    }
  }
  if (sos === null) throw corrupt('The JPEG has no image data (no scan).');
  // Every 8x8 luminance block costs at least one bit of entropy-coded data in some scan; a body
  // holding far less than that cannot be the image its header describes.
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const scanBytes = buf.length - sos;
  if (scanBytes < Math.max(4, blocks / 64)) {
    throw corrupt(`The JPEG header says ${width}x${height} but the file holds only ${scanBytes} bytes of image data.`);
  }
}

const TIFF_TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };
const TIFF_ARRAYS: Record<number, string> = { 273: 'strips', 279: 'strip byte counts', 324: 'tiles', 325: 'tile byte counts' };

function checkTiff(buf: Buffer): void {
  const le = buf[0] === 0x49;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > buf.length) throw corrupt('The TIFF directory lies outside the file.');
  const entries = u16(ifd);
  if (ifd + 2 + entries * 12 > buf.length) throw corrupt('The TIFF directory runs past the end of the file.');
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e);
    const what = TIFF_ARRAYS[tag];
    if (!what) continue;
    const count = u32(e + 4);
    const bytes = count * (TIFF_TYPE_SIZE[u16(e + 2)] ?? 1);
    if (bytes > 4 && (bytes > buf.length || u32(e + 8) + bytes > buf.length)) {
      throw corrupt(`The TIFF claims ${count} ${what}, more than the file can hold.`);
    }
  }
}

/** Refuses files whose header claims more than the body holds (422 corrupt_image). */
export function checkStructure(buf: Buffer, format: ImageFormat): void {
  if (format === 'jpeg') checkJpeg(buf);
  else if (format === 'tiff') checkTiff(buf);
}
