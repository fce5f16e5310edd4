import type { RgbImage } from '@dfd/imaging';
import { createSession, ort } from '@dfd/model-runtime';
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

  /** 68 landmarks per crop in image pixel coordinates (one batched run for all crops). */
  async predict(img: RgbImage, crops: IntRect[]): Promise<Array<Array<[number, number]>>> {
    if (crops.length === 0) return [];
    const S = this.loaded.spec.preprocessing.input_size;
    const per = 3 * S * S;
    const input = new Float32Array(per * crops.length);
    crops.forEach((r, i) => cropPadResizeNchw(img, r, S, true, input, i * per));
    const res = await this.session.run({
      [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [crops.length, 3, S, S]),
    });
    const out = res[this.session.outputNames[0]!]!.data as Float32Array;
    return crops.map((r, i) => {
      // FaceLandmark68NetBase.postProcess: undo the (assumed symmetric) padding of the short side.
      const k = S / Math.max(r.width, r.height);
      const w = r.width * k;
      const h = r.height * k;
      const padX = w < h ? Math.abs(w - h) / 2 : 0;
      const padY = h < w ? Math.abs(w - h) / 2 : 0;
      const pts: Array<[number, number]> = [];
      for (let p = 0; p < 68; p++) {
        const rx = (out[i * 136 + 2 * p]! * S - padX) / w;
        const ry = (out[i * 136 + 2 * p + 1]! * S - padY) / h;
        // face-api shifts by the unclipped detection box; the crop origin is the correct shift
        // (they differ by < 1 px, or more when the box sticks out of the image).
        pts.push([rx * r.width + r.x, ry * r.height + r.y]);
      }
      return pts;
    });
  }
}
