import type { RgbImage } from '@dfd/imaging';

/** Integer pixel rectangle inside an image. */
export interface IntRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Crops `rect` out of `img` (parts of `rect` outside the image read as 0), zero-pads it to a square and resizes it to `size` x `size`, writing
 * NCHW float32 pixel values (0..255, RGB) into `out` at `offset`. With `mirror` the crop is read
 * right to left first: exactly the same rectangle cropped from the mirrored image.
 *
 * This reproduces what face-api does in TF.js, so the ported nets see the same input:
 *  - `padToSquare(img, center)`: the short side is padded with zeros, either all at the
 *    bottom/right (`center=false`, the detectors) or split with round(diff/2) after and the rest
 *    before (`center=true`, the landmark net);
 *  - `tf.image.resizeBilinear(x, [size,size], alignCorners=false, halfPixelCenters=false)`:
 *    source = dst * (in/out), no antialiasing.
 */
export function cropPadResizeNchw(
  img: RgbImage,
  rect: IntRect,
  size: number,
  center: boolean,
  out: Float32Array = new Float32Array(3 * size * size),
  offset = 0,
  mirror = false,
): Float32Array {
  const { x: rx, y: ry, width: w, height: h } = rect;
  const side = Math.max(w, h);
  const diff = Math.abs(w - h);
  const pre = center ? diff - Math.round(diff * 0.5) : 0;
  const offX = w < h ? pre : 0;
  const offY = h < w ? pre : 0;
  const scale = side / size;
  const plane = size * size;
  const data = img.data;
  const stride = img.width * 3;

  // Per output column: the two source columns (byte offsets) and masks (0 where the sample is
  // padding or outside the image), and the interpolation weight.
  const c0 = new Int32Array(size);
  const c1 = new Int32Array(size);
  const m0 = new Float32Array(size);
  const m1 = new Float32Array(size);
  const cf = new Float64Array(size);
  const inCol = (i: number): boolean => i >= 0 && i < w && rx + i >= 0 && rx + i < img.width;
  const col = (i: number): number => (mirror ? w - 1 - i : i);
  for (let c = 0; c < size; c++) {
    const src = c * scale;
    const lo = Math.max(0, Math.floor(src));
    const hi = Math.min(side - 1, Math.ceil(src));
    cf[c] = src - lo;
    const ilo = col(lo - offX);
    const ihi = col(hi - offX);
    if (inCol(ilo)) { c0[c] = (rx + ilo) * 3; m0[c] = 1; }
    if (inCol(ihi)) { c1[c] = (rx + ihi) * 3; m1[c] = 1; }
  }
  const inRow = (i: number): boolean => i >= 0 && i < h && ry + i >= 0 && ry + i < img.height;

  for (let r = 0; r < size; r++) {
    const src = r * scale;
    const lo = Math.max(0, Math.floor(src));
    const hi = Math.min(side - 1, Math.ceil(src));
    const fy = src - lo;
    const ilo = lo - offY;
    const ihi = hi - offY;
    const r0ok = inRow(ilo);
    const r1ok = inRow(ihi);
    const r0 = r0ok ? (ry + ilo) * stride : 0;
    const r1 = r1ok ? (ry + ihi) * stride : 0;
    const wr0 = r0ok ? 1 - fy : 0;
    const wr1 = r1ok ? fy : 0;
    const base = offset + r * size;
    for (let c = 0; c < size; c++) {
      const a = c0[c]!;
      const b = c1[c]!;
      const fx = cf[c]!;
      // TF order of operations: lerp along x on both rows, then along y
      const wa = m0[c]! * (1 - fx);
      const wb = m1[c]! * fx;
      const ta = r0 + a, tb = r0 + b, ba = r1 + a, bb = r1 + b;
      const o = base + c;
      out[o] = (data[ta]! * wa + data[tb]! * wb) * wr0 + (data[ba]! * wa + data[bb]! * wb) * wr1;
      out[o + plane] = (data[ta + 1]! * wa + data[tb + 1]! * wb) * wr0 + (data[ba + 1]! * wa + data[bb + 1]! * wb) * wr1;
      out[o + 2 * plane] = (data[ta + 2]! * wa + data[tb + 2]! * wb) * wr0 + (data[ba + 2]! * wa + data[bb + 2]! * wb) * wr1;
    }
  }
  return out;
}
