import { applyAffine, type Affine } from './align.js';

export type Point = [number, number];
/** Corners in order top-left, top-right, bottom-right, bottom-left (of the crop-space cell). */
export type Quad = [Point, Point, Point, Point];

export interface HeatmapGrid {
  width: number;
  height: number;
  /** Row-major, width*height values. */
  values: ArrayLike<number>;
}

export interface MappedHeatmap {
  /** The whole aligned crop as a quadrilateral in image coordinates. */
  outline: Quad;
  /** One entry per heatmap cell, row-major: its value, its quadrilateral and centre in image coordinates. */
  cells: Array<{ value: number; quad: Quad; center: Point }>;
}

/**
 * Maps a heatmap computed on an aligned face crop (e.g. a classifier's CAM, any grid size) back to
 * the original image: `toImage` is the crop -> image affine from `FaceStage.alignedCrop` and
 * `cropSize` the crop side it was made with. Cells are the crop divided evenly into the grid; the
 * result is ready to draw as polygons (or to splat `center`/`value` onto an image-sized map).
 */
export function mapHeatmapToImage(heat: HeatmapGrid, toImage: Affine, cropSize: number): MappedHeatmap {
  const sx = cropSize / heat.width;
  const sy = cropSize / heat.height;
  const quadOf = (x0: number, y0: number, x1: number, y1: number): Quad => [
    applyAffine(toImage, x0, y0),
    applyAffine(toImage, x1, y0),
    applyAffine(toImage, x1, y1),
    applyAffine(toImage, x0, y1),
  ];
  const cells: MappedHeatmap['cells'] = [];
  for (let gy = 0; gy < heat.height; gy++) {
    for (let gx = 0; gx < heat.width; gx++) {
      cells.push({
        value: Number(heat.values[gy * heat.width + gx]),
        quad: quadOf(gx * sx, gy * sy, (gx + 1) * sx, (gy + 1) * sy),
        center: applyAffine(toImage, (gx + 0.5) * sx, (gy + 0.5) * sy),
      });
    }
  }
  return { outline: quadOf(0, 0, cropSize, cropSize), cells };
}
