import type { RgbImage } from '@dfd/imaging';

/** Affine 2x3 (a,b,c,d,e,f): x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = [number, number, number, number, number, number];

export interface FoundFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: Array<[number, number]>;
}

/** The face stage as the detector uses it; implemented by @dfd/face. */
export interface FaceFinder {
  detect(img: RgbImage): Promise<FoundFace[]>;
  alignedCrop(img: RgbImage, face: FoundFace, size: number): { image: RgbImage; toImage: Affine };
  modelInfo(): Array<{ name: string; version: string; sha256: string }>;
}

export function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}
