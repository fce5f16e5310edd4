import type { RgbImage } from '@dfd/imaging';

/** 2x3 affine, row-major [a,b,c,d,e,f]: x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = [number, number, number, number, number, number];

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) throw new Error('affine transform is singular');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
 * mapping `from[i]` onto `to[i]` (Umeyama in 2-D).
 */
export function estimateSimilarity(from: Array<[number, number]>, to: Array<[number, number]>): Affine {
  const n = from.length;
  let mfx = 0, mfy = 0, mtx = 0, mty = 0;
  for (let i = 0; i < n; i++) {
    mfx += from[i]![0]; mfy += from[i]![1]; mtx += to[i]![0]; mty += to[i]![1];
  }
  mfx /= n; mfy /= n; mtx /= n; mty /= n;
  let sxx = 0, sab = 0, sba = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]![0] - mfx, py = from[i]![1] - mfy;
    const qx = to[i]![0] - mtx, qy = to[i]![1] - mty;
    sxx += px * px + py * py;
    sab += px * qx + py * qy;
    sba += px * qy - py * qx;
  }
  const a = sab / sxx;
  const b = sba / sxx;
  // [x'; y'] = [a -b; b a] [x; y] + t
  return [a, -b, mtx - (a * mfx - b * mfy), b, a, mty - (b * mfx + a * mfy)];
}

/**
 * Samples an output image of `width` x `height` where output pixel (i, j) takes the image colour
 * at toImage(i + 0.5, j + 0.5) (pixel-centre convention, continuous coordinates in which pixel
 * (x, y) covers [x, x+1) x [y, y+1)). Bilinear; outside the image the border pixels are
 * repeated (mirroring was tried: it invents extra eyes and faces, worse for a face classifier).
 * `inside` is the share of output pixels that come from inside the image.
 */
export function warpAffine(img: RgbImage, toImage: Affine, width: number, height: number): RgbImage & { inside: number } {
  // Every byte is written below, so the buffer need not be zeroed.
  const out = Buffer.allocUnsafe(width * height * 3);
  let insideCount = 0;
  const { width: W, height: H, data } = img;
  const [a, b, c, d, e, f] = toImage;
  const maxX = W - 1;
  const maxY = H - 1;
  const stride = W * 3;
  let o = 0;
  for (let j = 0; j < height; j++) {
    const v = j + 0.5;
    for (let i = 0; i < width; i++) {
      const u = i + 0.5;
      let sx = a * u + b * v + c - 0.5;
      let sy = d * u + e * v + f - 0.5;
      if (sx >= -0.5 && sx <= W - 0.5 && sy >= -0.5 && sy <= H - 0.5) insideCount++;
      sx = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      sy = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      // Both are >= 0 here, so truncation is the floor.
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      const tl = y0 * stride + x0 * 3;
      const tr = tl + (x0 < maxX ? 3 : 0);
      const bl = tl + (y0 < maxY ? stride : 0);
      const br = bl + (tr - tl);
      // The three channels written out rather than looped, and rounded as floor(x + 0.5) (the
      // values are >= 0): Math.round took over half of this function's time in a one-process timing.
      let top = data[tl]! + (data[tr]! - data[tl]!) * fx;
      let bot = data[bl]! + (data[br]! - data[bl]!) * fx;
      out[o] = (top + (bot - top) * fy + 0.5) | 0;
      top = data[tl + 1]! + (data[tr + 1]! - data[tl + 1]!) * fx;
      bot = data[bl + 1]! + (data[br + 1]! - data[bl + 1]!) * fx;
      out[o + 1] = (top + (bot - top) * fy + 0.5) | 0;
      top = data[tl + 2]! + (data[tr + 2]! - data[tl + 2]!) * fx;
      bot = data[bl + 2]! + (data[br + 2]! - data[bl + 2]!) * fx;
      out[o + 2] = (top + (bot - top) * fy + 0.5) | 0;
      o += 3;
    }
  }
  return { width, height, data: out, inside: insideCount / (width * height) };
}


/** The five alignment points from the 68-point (iBUG/dlib order) landmarks. */
export function fivePoints(lm: Array<[number, number]>): Array<[number, number]> {
  const mean = (from: number, to: number): [number, number] => {
    let x = 0, y = 0;
    for (let i = from; i <= to; i++) { x += lm[i]![0]; y += lm[i]![1]; }
    const n = to - from + 1;
    return [x / n, y / n];
  };
  return [
    mean(36, 41), // subject's right eye (image left)
    mean(42, 47), // subject's left eye (image right)
    lm[30]!, // nose tip
    lm[48]!, // mouth corner (image left)
    lm[54]!, // mouth corner (image right)
  ];
}
