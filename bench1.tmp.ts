import { monitorEventLoopDelay } from 'node:perf_hooks';
import { normaliseUpload, extractEvidence } from '@dfd/imaging';
import { colourImage, RED } from './test/support/images.js';
import * as H from './test/support/hostile.js';
const png = await colourImage('png', RED, 64, 1);
const jpg = await colourImage('jpeg', RED, 64, 1);
const files: Record<string, Buffer> = {
  xmp1m: H.pngWithXmp(png, 80_000),
  xmpbig: H.pngWithXmp(png, 1_100_000),
  exif60: H.jpegWithExifSegments(jpg, 60, 3500, { 271: 'Canon' }),
  jxmp: H.jpegWithBigXmp(jpg, 1_000_000),
  text10k: H.pngWithTextChunks(png, 10_000),
  jpeg7000: H.jpegHeaderOnly(7000, 7000, 100),
  tiff100m: H.tiffWithStrips(100_000_000),
  ztxt: H.pngWithZtxtBomb(png, 50_000_000),
};
for (const [k, f] of Object.entries(files)) {
  const h = monitorEventLoopDelay({ resolution: 5 }); h.enable();
  const t = performance.now();
  let r: any;
  try { r = await normaliseUpload(f, { maxBytes: 30e6, maxPixels: 50e6, workingSize: 512 }); r = JSON.stringify(r.evidence); } catch (e) { r = (e as Error).message; }
  h.disable();
  console.log(k, f.length, (performance.now() - t).toFixed(0), 'ms; max loop delay', (h.max / 1e6).toFixed(1), r.slice(0, 300));
}
if (process.argv[2]) { const t = performance.now(); extractEvidence(files.exif60!); console.log('old exif60', performance.now() - t); }
