/**
 * Default framing for models whose model.json names no `face_crop` (models 1.x). Canonical positions of [right eye centre (image left), left eye centre (image right), nose tip,
 * mouth corner (image left), mouth corner (image right)] as fractions of the aligned crop side.
 *
 * Measured on faces-v1 by training/faceport/measure-framing.mjs (60 images per source, median per
 * source, median over sources, made left/right symmetric). Seven of the ten sources (FFHQ,
 * StyleGAN, CelebA-HQ, PGGAN, boredhumans, CIPLAB real/photoshop) share this framing: inter-ocular
 * distance 0.25 of the side, eyes at 47% height, mouth at 73%, detector box ~0.87 x 0.70 of the frame.
 */
export const CANONICAL_FIVE_POINTS: ReadonlyArray<readonly [number, number]> = [
  [0.373, 0.468],
  [0.627, 0.468],
  [0.5, 0.617],
  [0.385, 0.734],
  [0.615, 0.734],
];

