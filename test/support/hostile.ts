/**
 * Hostile but small-to-generate files for the hardening tests (issue 11): built at test time
 * from a real encoded image, never committed as binaries.
 */
import { deflateSync } from 'node:zlib';

export function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC for the big chunks. */
export function fastCrc32(...parts: Buffer[]): number {
  let c = ~0;
  for (const buf of parts) for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function pngChunk(type: string, data: Buffer, opts: { badCrc?: boolean } = {}): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(opts.badCrc ? 0xdeadbeef : fastCrc32(t, data));
  return Buffer.concat([len, t, data, crc]);
}

const IHDR_END = 8 + 4 + 4 + 13 + 4;

/** Inserts chunks right after IHDR. */
export function pngWithChunks(png: Buffer, chunks: Buffer[]): Buffer {
  return Buffer.concat([png.subarray(0, IHDR_END), ...chunks, png.subarray(IHDR_END)]);
}

export function xmpPacket(attributes: number, extra = ''): string {
  const parts: string[] = ['<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:a="ns:a/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"', extra];
  for (let i = 0; i < attributes; i++) parts.push(` a:a${i}="${i}"`);
  parts.push('/></rdf:RDF></x:xmpmeta>');
  return parts.join('');
}

/** A PNG whose XMP packet (iTXt XML:com.adobe.xmp) has `attributes` attributes. */
export function pngWithXmp(png: Buffer, attributes: number, extra = ''): Buffer {
  const data = Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), Buffer.from(xmpPacket(attributes, extra), 'utf8')]);
  return pngWithChunks(png, [pngChunk('iTXt', data)]);
}

/** A PNG with `n` tEXt chunks. */
export function pngWithTextChunks(png: Buffer, n: number, keyword = 'Comment', text = 'hello'): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; i < n; i++) chunks.push(pngChunk('tEXt', Buffer.from(`${keyword}\0${text} ${i}`, 'latin1')));
  return pngWithChunks(png, chunks);
}

function jpegSegment(marker: number, data: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/** A little-endian TIFF/EXIF block with `entries` SHORT tags plus Make/Model/Software strings. */
export function exifBlock(entries: number, strings: Record<number, string> = {}): Buffer {
  const strTags = Object.entries(strings).map(([t, v]) => [Number(t), Buffer.from(`${v}\0`, 'latin1')] as const);
  const total = entries + strTags.length;
  const ifdSize = 2 + total * 12 + 4;
  const header = Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]);
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(total, 0);
  let dataOffset = 8 + ifdSize;
  const data: Buffer[] = [];
  let e = 2;
  for (const [tag, bytes] of strTags.sort((a, b) => a[0] - b[0])) {
    ifd.writeUInt16LE(tag, e);
    ifd.writeUInt16LE(2, e + 2);
    ifd.writeUInt32LE(bytes.length, e + 4);
    ifd.writeUInt32LE(dataOffset, e + 8);
    data.push(bytes);
    dataOffset += bytes.length;
    e += 12;
  }
  for (let i = 0; i < entries; i++) {
    ifd.writeUInt16LE(0xc000 + (i % 0x3000), e);
    ifd.writeUInt16LE(3, e + 2);
    ifd.writeUInt32LE(1, e + 4);
    ifd.writeUInt32LE(i & 0xffff, e + 8);
    e += 12;
  }
  return Buffer.concat([header, ifd, ...data]);
}

/** A JPEG with `segments` APP1 EXIF segments of `entries` tags each, inserted after SOI. */
export function jpegWithExifSegments(jpeg: Buffer, segments: number, entries = 3500, strings: Record<number, string> = {}): Buffer {
  const segs: Buffer[] = [];
  for (let i = 0; i < segments; i++) segs.push(jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifBlock(entries, strings)])));
  return Buffer.concat([jpeg.subarray(0, 2), ...segs, jpeg.subarray(2)]);
}

/** A JPEG with an XMP packet of about `bytes` bytes: the standard packet plus extended-XMP segments. */
export function jpegWithBigXmp(jpeg: Buffer, bytes: number): Buffer {
  const segs: Buffer[] = [jpegSegment(0xe1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0${xmpPacket(3000)}`.slice(0, 65_000), 'utf8'))];
  const ext = Buffer.from(xmpPacket(Math.ceil(bytes / 12)), 'utf8');
  const guid = 'A'.repeat(32);
  for (let off = 0; off < ext.length; off += 65_000) {
    const part = ext.subarray(off, off + 65_000);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(ext.length, 0);
    head.writeUInt32BE(off, 4);
    segs.push(jpegSegment(0xe1, Buffer.concat([Buffer.from(`http://ns.adobe.com/xmp/extension/\0${guid}`, 'latin1'), head, part])));
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segs, jpeg.subarray(2)]);
}

/** SOI + SOF0 claiming width x height (+ DQT/DHT-free) + optional SOS with `scanBytes` bytes + EOI. */
export function jpegHeaderOnly(width: number, height: number, scanBytes: number | null): Buffer {
  const sof = Buffer.from([8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  const parts = [Buffer.from([0xff, 0xd8]), jpegSegment(0xc0, sof)];
  if (scanBytes !== null) {
    parts.push(jpegSegment(0xda, Buffer.from([3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0])));
    parts.push(Buffer.alloc(scanBytes, 0x55));
  }
  parts.push(Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** A little TIFF (8x8 grey) whose StripOffsets/StripByteCounts claim `strips` strips. */
export function tiffWithStrips(strips: number): Buffer {
  const entries: Array<[number, number, number, number]> = [
    [256, 3, 1, 8], // width
    [257, 3, 1, 8], // height
    [258, 3, 1, 8], // bits per sample
    [259, 3, 1, 1], // no compression
    [262, 3, 1, 1], // black is zero
    [273, 4, strips, 200], // strip offsets
    [277, 3, 1, 1], // samples per pixel
    [278, 3, 1, 1], // rows per strip
    [279, 4, strips, 300], // strip byte counts
  ];
  const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
  ifd.writeUInt16LE(entries.length, 0);
  entries.forEach(([tag, type, count, value], i) => {
    const o = 2 + i * 12;
    ifd.writeUInt16LE(tag, o);
    ifd.writeUInt16LE(type, o + 2);
    ifd.writeUInt32LE(count, o + 4);
    ifd.writeUInt32LE(value, o + 8);
  });
  const file = Buffer.alloc(400, 0x80);
  Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]).copy(file, 0);
  ifd.copy(file, 8);
  return file;
}

/** A zlib bomb for a zTXt chunk: `inflated` bytes of zeros. */
export function pngWithZtxtBomb(png: Buffer, inflated: number): Buffer {
  return pngWithChunks(png, [pngChunk('zTXt', Buffer.concat([Buffer.from('parameters\0\0', 'latin1'), deflateSync(Buffer.alloc(inflated))]))]);
}
