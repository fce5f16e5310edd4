import type { RgbImage } from '@dfd/imaging';
import type { Affine, Face } from '@dfd/face';

export type { Affine };
export type FoundFace = Face;

/** The aligned crop a model reads: template points (fractions of the side; null = the face stage's default) and side. */
export interface FaceCropSpec {
  template5: Array<[number, number]> | null;
  size: number;
}

/** The face stage as the detector uses it; implemented by @dfd/face. */
export interface FaceFinder {
  detect(img: RgbImage): Promise<FoundFace[]>;
  alignedCrop(img: RgbImage, face: FoundFace, size: number, template5?: ReadonlyArray<readonly [number, number]>): { image: RgbImage; toImage: Affine };
  modelInfo(): Array<{ name: string; version: string; sha256: string }>;
}

export function compose(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}
