import type { RgbImage } from '@dfd/imaging';
import { createSession, float32Scratch, ort } from '@dfd/model-runtime';
import { cropPadResizeNchw, type IntRect } from './preprocess.js';
import { readFaceModelSpec, type LoadedSpec } from './spec.js';

/** Box clipped to the image and floored, as face-api's Box.clipAtImageBorders (the landmark crop). */
export function faceCropRect(box: { x: number; y: number; width: number; height: number }, imgW: number, imgH: number): IntRect | null {
  const x = Math.max(box.x, 0);
  const y = Math.max(box.y, 0);
  const width = Math.min(box.x + box.width - x, imgW - x);
  const height = Math.min(box.y + box.height - y, imgH - y);
  const r = { x: Math.floor(x), y: Math.floor(y), width: Math.floor(width), height: Math.floor(height) };
  return r.width > 0 && r.height > 0 ? r : null;
}

/** The iBUG 68-point index of each point's mirror partner (the face's left and right swapped). */
export const MIRROR_68: readonly number[] = (() => {
  const m = Array.from({ length: 68 }, (_, i) => i);
  const pairs: Array<[number, number]> = [
    [31, 35], [32, 34], // nostrils
    [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46], // eyes
    [48, 54], [49, 53], [50, 52], [55, 59], [56, 58], [60, 64], [61, 63], [65, 67], // mouth
  ];
  for (let i = 0; i <= 7; i++) pairs.push([i, 16 - i]); // jaw
  for (let i = 0; i < 5; i++) pairs.push([17 + i, 26 - i]); // eyebrows
  for (const [a, b] of pairs) { m[a] = b; m[b] = a; }
  return m;
})();

/**
 * The landmark net's crop for its second look, rebuilt from a first estimate of the points: the
 * rectangle the face detector draws around such points (median over the faces of faces-v1 and
 * faces-v2: 1.33 times the points' width, 1.24 times their height), centred on them. Why: the
 * detector's box moves with a mirror, a rescale or a wider canvas, and the landmarks moved with it
 * (mean five-point shift under a mirror 3.7 % of the eye distance); from a box that depends only on
 * the face, the second look is steadier. The ratios are what the net was given in face-api.
 */
export const REFINED_CROP_SCALE = { width: 1.33, height: 1.24 } as const;

export function refinedLandmarkCrop(points: ReadonlyArray<readonly [number, number]>): IntRect {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const w = (x1 - x0) * REFINED_CROP_SCALE.width;
  const h = (y1 - y0) * REFINED_CROP_SCALE.height;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return { x: Math.floor(cx - w / 2), y: Math.floor(cy - h / 2), width: Math.max(1, Math.floor(w)), height: Math.max(1, Math.floor(h)) };
}

/**
 * face-api's FaceLandmark68Net in onnxruntime: the face crop is zero-padded to a centred square,
 * resized to 112x112, and the net returns 68 (x,y) pairs relative to that padded square.
 */
export class LandmarkNet {
  private constructor(
    readonly loaded: LoadedSpec,
    readonly session: ort.InferenceSession,
  ) {}

  static async load(dir: string, threads: number): Promise<LandmarkNet> {
    const loaded = readFaceModelSpec(dir);
    return new LandmarkNet(loaded, await createSession(loaded.path, threads));
  }

  /**
   * 68 landmarks per crop in image pixel coordinates (one batched run for all crops). A crop
   * flagged in `mirrored` is read mirrored and its points mapped back (positions and left/right
   * indices), so they estimate the same landmarks from the mirror image.
   */
  async predict(img: RgbImage, crops: IntRect[], mirrored: boolean[] = []): Promise<Array<Array<[number, number]>>> {
    if (crops.length === 0) return [];
    const S = this.loaded.spec.preprocessing.input_size;
    const per = 3 * S * S;
    const input = float32Scratch.take(per * crops.length);
    crops.forEach((r, i) => cropPadResizeNchw(img, r, S, true, input, i * per, mirrored[i] ?? false));
    let res: ort.InferenceSession.ReturnType;
    try {
      res = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [crops.length, 3, S, S]) });
    } finally {
      float32Scratch.give(input);
    }
    const out = res[this.session.outputNames[0]!]!.data as Float32Array;
    return crops.map((r, i) => {
      // FaceLandmark68NetBase.postProcess: undo the (assumed symmetric) padding of the short side.
      const k = S / Math.max(r.width, r.height);
      const w = r.width * k;
      const h = r.height * k;
      const padX = w < h ? Math.abs(w - h) / 2 : 0;
      const padY = h < w ? Math.abs(w - h) / 2 : 0;
      const pts: Array<[number, number]> = new Array(68);
      for (let p = 0; p < 68; p++) {
        const rx = (out[i * 136 + 2 * p]! * S - padX) / w;
        const ry = (out[i * 136 + 2 * p + 1]! * S - padY) / h;
        // face-api shifts by the unclipped detection box; the crop origin is the correct shift
        // (they differ by < 1 px, or more when the box sticks out of the image).
        if (mirrored[i]) pts[MIRROR_68[p]!] = [r.x + r.width - rx * r.width, ry * r.height + r.y];
        else pts[p] = [rx * r.width + r.x, ry * r.height + r.y];
      }
      return pts;
    });
  }
}
