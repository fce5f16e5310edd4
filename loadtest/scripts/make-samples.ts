/**
 * Writes loadtest/samples/: a handful of synthetic pictures of realistic upload size (JPEG, PNG,
 * GIF, TIFF; long side >= 640 px; 50-500 KB each, like phone photos scaled for the web) and
 * manifest.json, which says where each file can be varied without breaking it (see
 * k6/variants.js). Deterministic; rerun after changing it and commit the output.
 * Usage: node --import tsx loadtest/scripts/make-samples.ts [outDir]
 * The k6 scenarios read any folder holding such a manifest (`-e SAMPLES_DIR=...`).
 *
 * With `--faces DIR` (repeatable; `--per-dir N`, default 8) it writes face photos instead: each of
 * the first N images of every DIR (e.g. the data sets in ../shared, which are never copied into
 * the repo) placed as a phone portrait or landscape would show it, the face about 40 % of the
 * frame's width on a photo-like background, 960x1280 or 1280x960, JPEG q88-92. Uploads like these
 * take the whole path (face detector, landmarks, detector, and the classifier when flagged), so
 * per-pod figures measured with them are what a deployment of real photos needs.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { capacity, type SampleMeta } from '../k6/variants.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { faces: { type: 'string', multiple: true }, 'per-dir': { type: 'string', default: '8' } },
});
const outDir = positionals[0] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'samples');

/**
 * A face-sized blob on a gradient with sensor-like noise and some texture: photo-like statistics,
 * so encoders produce photo-like file sizes. `noise` is the noise amplitude (grey levels).
 */
function picture(w: number, h: number, seed: number, noise: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  let s = seed * 2654435761;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
  const cx = w * (0.4 + 0.2 * rnd());
  const cy = h * (0.45 + 0.1 * rnd());
  const rx = w * 0.22;
  const ry = h * 0.3;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      const n = (rnd() - 0.5) * noise + 10 * Math.sin(x / 7 + seed) * Math.cos(y / 11);
      const bg = [60 + (120 * x) / w, 90 + (80 * y) / h, 150 - (60 * x) / w];
      const skin = [200 - 25 * d, 150 - 20 * d, 120 - 15 * d];
      const c = d < 1 ? skin : bg;
      for (let k = 0; k < 3; k++) px[i + k] = Math.max(0, Math.min(255, Math.round(c[k]! + n)));
    }
  }
  return px;
}

function jpegSpots(buf: Buffer): SampleMeta['spots'] {
  // Entries 0-2 (zigzag: DC and the two lowest AC) of each 8-bit quantisation table.
  const spots: SampleMeta['spots'] = [];
  for (let o = 2; o + 4 < buf.length; ) {
    if (buf[o] !== 0xff) throw new Error(`jpeg: no marker at ${o}`);
    const marker = buf[o + 1]!;
    const len = buf.readUInt16BE(o + 2);
    if (marker === 0xdb) {
      for (let p = o + 4; p < o + 2 + len; p += 65) {
        if (buf[p]! >> 4 !== 0) throw new Error('jpeg: 16-bit quantisation table');
        for (const k of [0, 1, 2]) {
          const q = buf[p + 1 + k]!;
          spots.push({ offset: p + 1 + k, lo: q, hi: q + 15 });
        }
      }
    }
    if (marker === 0xda) break;
    o += 2 + len;
  }
  return spots;
}

function pngSpots(buf: Buffer): Pick<SampleMeta, 'spots' | 'crcs'> {
  for (let o = 8; o < buf.length; ) {
    const len = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    if (type === 'PLTE') {
      // The red and green bytes of the first two palette entries: 2^32 variants.
      const data = o + 8;
      return { spots: [0, 1, 3, 4].map((k) => ({ offset: data + k, lo: 0, hi: 255 })), crcs: [{ start: o + 4, end: data + len, at: data + len }] };
    }
    o += 12 + len;
  }
  throw new Error('png: no PLTE chunk');
}

function gifSpots(buf: Buffer): SampleMeta['spots'] {
  const packed = buf[10]!;
  let table = -1;
  if (packed & 0x80) table = 13;
  else {
    // No global table: the first image descriptor's local one.
    let o = 13;
    while (buf[o] === 0x21) {
      o += 2;
      while (buf[o]! > 0) o += buf[o]! + 1;
      o += 1;
    }
    if (buf[o] !== 0x2c || !(buf[o + 9]! & 0x80)) throw new Error('gif: no colour table');
    table = o + 10;
  }
  return [0, 1, 3, 4].map((k) => ({ offset: table + k, lo: 0, hi: 255 }));
}

function tiffSpots(buf: Buffer): SampleMeta['spots'] {
  const le = buf.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const ifd = u32(4);
  let strip = -1;
  let compression = 1;
  for (let i = 0; i < u16(ifd); i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e);
    const type = u16(e + 2);
    const count = u32(e + 4);
    const val = type === 3 ? u16(e + 8) : u32(e + 8);
    if (tag === 259) compression = val;
    if (tag === 273) strip = count === 1 ? val : u32(val);
  }
  if (compression !== 1 || strip < 0) throw new Error('tiff: want one uncompressed strip');
  // Four channel bytes of the first pixels; step 97 so that neighbouring variants differ by far more
  // than the gateway's downscaling to WORKING_SIZE rounds away.
  return [0, 1, 2, 3].map((k) => ({ offset: strip + k, lo: 0, hi: 255, step: 97 }));
}

const specs = [
  { file: 'photo-1280x960.jpg', w: 1280, h: 960, format: 'jpeg' as const, noise: 14, quality: 85 },
  { file: 'portrait-720x960.jpg', w: 720, h: 960, format: 'jpeg' as const, noise: 10, quality: 90 },
  { file: 'palette-800x600.png', w: 800, h: 600, format: 'png' as const, noise: 10, quality: 0 },
  { file: 'anim-640x480.gif', w: 640, h: 480, format: 'gif' as const, noise: 10, quality: 0 },
  { file: 'raw-640x240.tiff', w: 640, h: 240, format: 'tiff' as const, noise: 12, quality: 0 },
];

/** A face picture placed in a photo-sized JPEG (see the header). */
async function facePhoto(file: string, seed: number): Promise<{ buf: Buffer; w: number; h: number }> {
  const [w, h] = seed % 2 ? [1280, 960] : [960, 1280];
  const side = Math.round(w * (0.36 + 0.08 * ((seed * 7) % 5) / 4));
  const face = await sharp(file).rotate().resize(side, side, { fit: 'inside', kernel: 'lanczos3' }).removeAlpha().toBuffer({ resolveWithObject: true });
  const left = Math.round((w - face.info.width) * (0.3 + 0.4 * (((seed * 3) % 7) / 6)));
  const top = Math.round((h - face.info.height) * (0.2 + 0.3 * (((seed * 5) % 4) / 3)));
  const bg = sharp(picture(w, h, seed + 100, 12), { raw: { width: w, height: h, channels: 3 } });
  const buf = await bg
    .composite([{ input: face.data, left, top }])
    .jpeg({ quality: 88 + (seed % 5), mozjpeg: false, optimiseCoding: true })
    .toBuffer();
  return { buf, w, h };
}

mkdirSync(outDir, { recursive: true });
const manifest: SampleMeta[] = [];
if (opts.faces?.length) {
  const perDir = Number(opts['per-dir']);
  let seed = 0;
  for (const dir of opts.faces) {
    const files = readdirSync(dir).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort().slice(0, perDir);
    if (!files.length) throw new Error(`--faces ${dir}: no JPEG/PNG/WebP images`);
    for (const f of files) {
      const { buf, w, h } = await facePhoto(join(dir, f), ++seed);
      const file = `face-${String(seed).padStart(3, '0')}-${basename(dir)}.jpg`;
      writeFileSync(join(outDir, file), buf);
      manifest.push({ file, format: 'jpeg', mime: 'image/jpeg', width: w, height: h, bytes: buf.length, spots: jpegSpots(buf), crcs: [] });
    }
  }
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const kb = manifest.map((m) => m.bytes / 1024);
  console.log(`${manifest.length} face photos in ${outDir}: ${Math.round(Math.min(...kb))}-${Math.round(Math.max(...kb))} KB`);
  process.exit(0);
}
for (const [i, s] of specs.entries()) {
  const img = sharp(picture(s.w, s.h, i + 1, s.noise), { raw: { width: s.w, height: s.h, channels: 3 } });
  let buf: Buffer;
  let meta: Pick<SampleMeta, 'spots' | 'crcs'>;
  if (s.format === 'jpeg') {
    buf = await img.jpeg({ quality: s.quality, mozjpeg: false, optimiseCoding: true }).toBuffer();
    meta = { spots: jpegSpots(buf), crcs: [] };
  } else if (s.format === 'png') {
    buf = await img.png({ palette: true, colours: 64, compressionLevel: 9 }).toBuffer();
    meta = pngSpots(buf);
  } else if (s.format === 'gif') {
    buf = await img.gif({ colours: 64 }).toBuffer();
    meta = { spots: gifSpots(buf), crcs: [] };
  } else {
    buf = await img.tiff({ compression: 'none' }).toBuffer();
    meta = { spots: tiffSpots(buf), crcs: [] };
  }
  writeFileSync(join(outDir, s.file), buf);
  const entry: SampleMeta = { file: s.file, format: s.format, mime: `image/${s.format}`, width: s.w, height: s.h, bytes: buf.length, ...meta };
  manifest.push(entry);
  console.log(`${s.file}: ${buf.length} bytes, ${capacity(entry)} variants`);
}
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
