import type { RgbImage } from '@dfd/imaging';
import { resolveModelDir } from '@dfd/model-runtime';
import { estimateSimilarity, fivePoints, warpAffine, type Affine } from './align.js';
import { TinyFaceDetector, iou, type RawDetection } from './detector.js';
import { LandmarkNet, faceCropRect, refinedLandmarkCrop } from './landmarks.js';
import type { IntRect } from './preprocess.js';
import { CANONICAL_FIVE_POINTS } from './template.js';

export interface Face {
  /** Detector box in image pixels, clipped to the image. */
  box: { x: number; y: number; width: number; height: number };
  score: number;
  /** 68 points (iBUG/dlib order) in image pixel coordinates. */
  landmarks: Array<[number, number]>;
  /** The rectangle the landmark net first read (the floored, unclipped detector box; may leave the image). */
  landmarkCrop: IntRect;
}

export interface FaceStageOptions {
  threads: number;
  /** Smallest face (max of box width/height, image pixels) to report. Default 24. */
  minFaceSize?: number;
  /** Detector score threshold. Default 0.5 (face-api's default). */
  scoreThreshold?: number;
  /** Detector input side (multiple of 32) of the main pass; default from the detector's model.json (416). */
  inputSize?: number;
  /**
   * Second, "zoomed-out" detector pass for faces that fill (or overflow) the frame, which the tiny
   * detector misses at full frame: the image is centred on a zero canvas `context` times its long
   * side and run at `inputSize`. Default { context: 2.5, inputSize: 224 }; false disables it.
   */
  zoomOut?: { context: number; inputSize: number } | false;
}

/** Greedy merge of detections from several passes: drop a box overlapping a better one (IoU > 0.4 or > 0.8 of the smaller box). */
export function mergeDetections(dets: RawDetection[], iouThreshold = 0.4, containThreshold = 0.8): RawDetection[] {
  const xyxy = (d: RawDetection): number[] => [d.x, d.y, d.x + d.width, d.y + d.height];
  const kept: RawDetection[] = [];
  for (const d of [...dets].sort((a, b) => b.score - a.score)) {
    const a = xyxy(d);
    const overlaps = kept.some((k) => {
      const b = xyxy(k);
      if (iou(a, b) > iouThreshold) return true;
      const inter = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)) * Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
      return inter > containThreshold * Math.min(d.width * d.height, k.width * k.height);
    });
    if (!overlaps) kept.push(d);
  }
  return kept;
}

/** A face this large (share of the image's long side) means a portrait: no small faces to look for. */
const LARGE_FACE_SHARE = 0.35;

export class FaceStage {
  private constructor(
    readonly detector: TinyFaceDetector,
    readonly landmarker: LandmarkNet,
    readonly minFaceSize: number,
    readonly scoreThreshold: number,
    readonly inputSize: number,
    readonly zoomOut: { context: number; inputSize: number } | false,
  ) {}

  /** Loads the newest models/face-detector/<v> and models/face-landmarks/<v> under `modelsDir`. */
  static async load(modelsDir: string, opts: FaceStageOptions): Promise<FaceStage> {
    const [detector, landmarker] = await Promise.all([
      TinyFaceDetector.load(resolveModelDir(modelsDir, 'face-detector'), opts.threads),
      LandmarkNet.load(resolveModelDir(modelsDir, 'face-landmarks'), opts.threads),
    ]);
    return new FaceStage(
      detector,
      landmarker,
      opts.minFaceSize ?? 24,
      opts.scoreThreshold ?? 0.5,
      opts.inputSize ?? detector.defaultInputSize,
      opts.zoomOut ?? { context: 2.5, inputSize: 224 },
    );
  }

  /** Main-pass detector output exactly as face-api computes it (unclipped boxes); for parity checks. */
  detectBoxes(img: RgbImage): Promise<RawDetection[]> {
    return this.detector.detect(img, { inputSize: this.inputSize, scoreThreshold: this.scoreThreshold });
  }

  /**
   * Both detector passes, merged (unclipped boxes, before the size filter). The zoomed-out pass
   * (cheap: small input) runs first; when it already finds a face that fills much of the frame,
   * as in most uploads, which are portraits or face crops, the full-resolution pass, which exists
   * for small faces in larger scenes, is skipped. That keeps the face stage's cost low on single faces.
   */
  async detectAllBoxes(img: RgbImage): Promise<RawDetection[]> {
    const dets: RawDetection[] = [];
    if (this.zoomOut) {
      const side = Math.round(Math.max(img.width, img.height) * this.zoomOut.context);
      const region = { x: Math.round((img.width - side) / 2), y: Math.round((img.height - side) / 2), width: side, height: side };
      dets.push(...(await this.detector.detect(img, { inputSize: this.zoomOut.inputSize, scoreThreshold: this.scoreThreshold }, region)));
      const longSide = Math.max(img.width, img.height);
      if (dets.some((d) => Math.max(d.width, d.height) >= LARGE_FACE_SHARE * longSide)) return mergeDetections(dets);
    }
    dets.push(...(await this.detectBoxes(img)));
    return mergeDetections(dets);
  }

  /** Every face above the minimum size, best score first, with 68 landmarks. */
  async detect(img: RgbImage): Promise<Face[]> {
    const kept = (await this.detectAllBoxes(img)).filter((d) => {
      const clip = faceCropRect(d, img.width, img.height);
      return clip !== null && Math.max(clip.width, clip.height) >= this.minFaceSize;
    });
    // The landmark crop is the whole (floored) box even where it leaves the image (read as zero
    // padding). face-api clips it to the image, which shifts a partly visible face off the centre
    // the landmark net expects; inside the image both are identical.
    const crops = kept.map((d) => ({ x: Math.floor(d.x), y: Math.floor(d.y), width: Math.floor(d.width), height: Math.floor(d.height) }));
    const landmarks = await this.refinedLandmarks(img, crops);
    return kept.map((det, i) => {
      const x0 = Math.max(0, det.x);
      const y0 = Math.max(0, det.y);
      const x1 = Math.min(img.width, det.x + det.width);
      const y1 = Math.min(img.height, det.y + det.height);
      return { box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, score: det.score, landmarks: landmarks[i]!, landmarkCrop: crops[i]! };
    });
  }

  /**
   * The landmarks of the faces in `crops` (detector boxes): a first estimate in each box, then a
   * second look in the box those points give (refinedLandmarkCrop), there and mirrored, averaged.
   * Both steps make the points, and so the aligned crop the models judge, depend on the face rather
   * than on how the detector happened to frame it or on which way the photo faces: under a mirror
   * the five alignment points moved by a mean 3.7 % of the eye distance with one look, 1.2 % with
   * this (half size: 2.1 % -> 1.6 %; 12 test images per source). Cost: three landmark runs per face
   * instead of one, in two batched calls (1.4 and 3.0 ms of CPU for one face in the bench).
   */
  async refinedLandmarks(img: RgbImage, crops: IntRect[]): Promise<Array<Array<[number, number]>>> {
    if (crops.length === 0) return [];
    const first = await this.landmarker.predict(img, crops);
    const second = first.map(refinedLandmarkCrop);
    const n = second.length;
    const both = await this.landmarker.predict(img, [...second, ...second], [...second.map(() => false), ...second.map(() => true)]);
    return both.slice(0, n).map((pts, i) => pts.map(([x, y], p) => [(x + both[n + i]![p]![0]) / 2, (y + both[n + i]![p]![1]) / 2] as [number, number]));
  }

  /**
   * Similarity-aligned face crop: the eye centres, nose tip and mouth corners are fitted (least
   * squares) to the canonical faces-v1 positions, so the crop is framed like a faces-v1 image
   * (margin included). `toImage` maps crop pixel coordinates to image coordinates. Pass
   * The models name their own template in model.json (`preprocessing.face_crop`).
   * Parts of the crop outside the image repeat the border pixels; `inside` is the share that is real image.
   */
  alignedCrop(
    img: RgbImage,
    face: Face,
    size: number,
    template5: ReadonlyArray<readonly [number, number]> = CANONICAL_FIVE_POINTS,
  ): { image: RgbImage; toImage: Affine; inside: number } {
    const template = template5.map(([x, y]) => [x * size, y * size] as [number, number]);
    const toImage = estimateSimilarity(template, fivePoints(face.landmarks));
    const { inside, ...image } = warpAffine(img, toImage, size, size);
    return { image, toImage, inside };
  }

  modelInfo(): Array<{ name: string; version: string; sha256: string }> {
    return [this.detector.loaded, this.landmarker.loaded].map((l) => ({ name: l.spec.name, version: l.spec.version, sha256: l.sha256 }));
  }
}
