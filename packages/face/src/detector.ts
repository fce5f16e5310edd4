import type { RgbImage } from '@dfd/imaging';
import { createSession, float32Scratch, ort } from '@dfd/model-runtime';
import { cropPadResizeNchw, type IntRect } from './preprocess.js';
import { readFaceModelSpec, type LoadedSpec } from './spec.js';

/** A detection in image pixel coordinates (not clipped to the image). */
export interface RawDetection {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** IoU on [x0,y0,x1,y1] boxes (face-api ops/iou.ts). */
export function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  const areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  return inter / (areaA + areaB - inter);
}

/** Greedy NMS exactly as face-api ops/nonMaxSuppression.ts: returns picked indices, best first. */
export function nonMaxSuppression(boxes: number[][], scores: number[], iouThreshold: number): number[] {
  let order = scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => a.score - b.score)
    .map((c) => c.i);
  const pick: number[] = [];
  while (order.length > 0) {
    const cur = order.pop()!;
    pick.push(cur);
    order = order.filter((j) => iou(boxes[cur]!, boxes[j]!) <= iouThreshold);
  }
  return pick;
}

export interface DetectOptions {
  inputSize: number;
  scoreThreshold: number;
}

/**
 * face-api's TinyFaceDetector (a depthwise-separable Tiny-YOLOv2) in onnxruntime.
 * The ONNX graph takes NCHW 0..255 RGB of any size divisible by 32 and returns the raw
 * [1, S/32, S/32, 5 anchors x (tx, ty, tw, th, objectness)] grid; decoding and NMS are here.
 */
export class TinyFaceDetector {
  private constructor(
    readonly loaded: LoadedSpec,
    readonly session: ort.InferenceSession,
    readonly anchors: Array<[number, number]>,
    readonly iouThreshold: number,
  ) {}

  static async load(dir: string, threads: number): Promise<TinyFaceDetector> {
    const loaded = readFaceModelSpec(dir);
    const post = loaded.spec.postprocessing as { anchors: Array<[number, number]>; iou_threshold: number };
    const session = await createSession(loaded.path, threads);
    return new TinyFaceDetector(loaded, session, post.anchors, post.iou_threshold);
  }

  get defaultInputSize(): number {
    return this.loaded.spec.preprocessing.input_size;
  }

  /**
   * Runs the detector on `region` of the image (default: the whole image; the region may extend
   * past the image borders, which reads as zero padding) and returns boxes in image pixels.
   */
  async detect(img: RgbImage, opts: DetectOptions, region?: IntRect): Promise<RawDetection[]> {
    const S = opts.inputSize;
    if (S % 32 !== 0) throw new Error(`inputSize must be divisible by 32, got ${S}`);
    const r = region ?? { x: 0, y: 0, width: img.width, height: img.height };
    const input = cropPadResizeNchw(img, r, S, false, float32Scratch.take(3 * S * S));
    const inputName = this.session.inputNames[0]!;
    let res: ort.InferenceSession.ReturnType;
    try {
      res = await this.session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, S, S]) });
    } finally {
      float32Scratch.give(input);
    }
    const grid = res[this.session.outputNames[0]!]!;
    const dets = this.decode(grid.data as Float32Array, Number(grid.dims[1]), r.width, r.height, S, opts.scoreThreshold);
    for (const d of dets) {
      d.x += r.x;
      d.y += r.y;
    }
    return dets;
  }

  /** Tiny-YOLOv2 decoding as in face-api TinyYolov2Base.extractBoxes + detect. */
  decode(grid: Float32Array, cells: number, imgW: number, imgH: number, inputSize: number, scoreThreshold: number): RawDetection[] {
    const k = inputSize / Math.max(imgW, imgH);
    const corrX = inputSize / Math.round(imgW * k);
    const corrY = inputSize / Math.round(imgH * k);
    const nA = this.anchors.length;
    const boxes: number[][] = [];
    const scores: number[] = [];
    for (let row = 0; row < cells; row++) {
      for (let col = 0; col < cells; col++) {
        for (let a = 0; a < nA; a++) {
          const o = ((row * cells + col) * nA + a) * 5;
          const score = sigmoid(grid[o + 4]!);
          if (!(score > scoreThreshold)) continue;
          const [ax, ay] = this.anchors[a]!;
          const cx = ((col + sigmoid(grid[o]!)) / cells) * corrX;
          const cy = ((row + sigmoid(grid[o + 1]!)) / cells) * corrY;
          const w = ((Math.exp(grid[o + 2]!) * ax) / cells) * corrX;
          const h = ((Math.exp(grid[o + 3]!) * ay) / cells) * corrY;
          const x = cx - w / 2;
          const y = cy - h / 2;
          boxes.push([x, y, x + w, y + h]);
          scores.push(score);
        }
      }
    }
    const keep = nonMaxSuppression(boxes, scores, this.iouThreshold);
    return keep.map((i) => {
      const [x0, y0, x1, y1] = boxes[i]!;
      return { x: x0! * imgW, y: y0! * imgH, width: (x1! - x0!) * imgW, height: (y1! - y0!) * imgH, score: scores[i]! };
    });
  }
}
