import { decodeToRgb, type RgbImage } from '@dfd/imaging';
import { decideLabel, MicroBatcher, type ImageClassifierModel, type Prediction } from '@dfd/model-runtime';
import {
  bytesOutput,
  decodeInput,
  fp32Output,
  InvalidInferRequest,
  OipServer,
  type InferRequestMessage,
  type InferResponseMessage,
  type OipModel,
} from '@dfd/proto';

const MAX_SIDE = 4096;

/** Turns the request's `image` input into pictures: raw UINT8 [N,H,W,3] / [H,W,3], or BYTES of encoded files. */
export async function imagesFromRequest(req: InferRequestMessage): Promise<RgbImage[]> {
  const idx = req.inputs.findIndex((t) => t.name === 'image');
  if (idx < 0) throw new InvalidInferRequest('the request needs an input named "image"');
  let tensor;
  try {
    tensor = decodeInput(req, idx);
  } catch (err) {
    throw new InvalidInferRequest((err as Error).message);
  }
  if (tensor.datatype === 'UINT8') {
    const shape = tensor.shape.length === 3 ? [1, ...tensor.shape] : tensor.shape;
    const [n, h, w, c] = shape as [number, number, number, number];
    if (shape.length !== 4 || c !== 3 || h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE) {
      throw new InvalidInferRequest(`UINT8 image must be [N,H,W,3] with sides 1..${MAX_SIDE}, got ${JSON.stringify(tensor.shape)}`);
    }
    const bytes = tensor.data as Uint8Array;
    const per = h * w * 3;
    return Array.from({ length: n }, (_, i) => ({
      width: w,
      height: h,
      data: Buffer.from(bytes.buffer, bytes.byteOffset + i * per, per),
    }));
  }
  if (tensor.datatype === 'BYTES') {
    const files = tensor.data as Buffer[];
    return Promise.all(
      files.map((f) =>
        decodeToRgb(Buffer.from(f), MAX_SIDE).catch((err: Error) => {
          throw new InvalidInferRequest(`image could not be decoded: ${err.message}`);
        }),
      ),
    );
  }
  throw new InvalidInferRequest(`input "image" must be UINT8 or BYTES, got ${tensor.datatype}`);
}

/**
 * Serves an image classifier through OIP, KServe-style: callers send pictures; the server does the
 * model's own preprocessing, prediction and postprocessing from its model.json (threshold,
 * uncertain band, label names), so a model update never changes the clients. Outputs:
 * `probabilities` [N, C] in the order of the `labels` response parameter (a JSON array),
 * `label` [N] the decided label (or "uncertain"), `cam` [N, h, w]; parameters `threshold` and
 * `uncertain_band` say which numbers decided.
 */
export class ImageModelOip implements OipModel {
  readonly platform = 'onnxruntime_onnx';
  private readonly batcher: MicroBatcher;

  constructor(
    readonly model: ImageClassifierModel,
    opts: { maxBatch?: number; maxWaitMs?: number } = {},
  ) {
    this.batcher = new MicroBatcher(model, opts.maxBatch ?? 8, opts.maxWaitMs ?? 3);
  }

  get name(): string {
    return this.model.spec.name;
  }
  get version(): string {
    return this.model.spec.version;
  }
  get inputs() {
    return [{ name: 'image', datatype: 'UINT8', shape: [-1, -1, -1, 3] }];
  }
  get outputs() {
    const classes = this.model.spec.labels.length;
    return [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, classes] },
      { name: 'cam', datatype: 'FP32', shape: [-1, -1, -1] },
      { name: 'label', datatype: 'BYTES', shape: [-1] },
    ];
  }

  isReady(): boolean {
    return true;
  }

  async infer(req: InferRequestMessage): Promise<InferResponseMessage> {
    const images = await imagesFromRequest(req);
    const preds: Prediction[] = await Promise.all(images.map((img) => this.batcher.predict(img)));
    const classes = this.model.spec.labels.length;
    const probs = preds.flatMap((p) => p.probabilities);
    const cam0 = preds[0]?.cam;
    const camShape = cam0 ? [preds.length, cam0.height, cam0.width] : [preds.length, 0, 0];
    const cams = preds.flatMap((p) => p.cam?.values ?? []);
    const spec = this.model.spec;
    const labels = preds.map((p) => decideLabel(spec, p.probabilities).label);
    return {
      model_name: this.name,
      model_version: this.version,
      id: req.id ?? '',
      parameters: {
        sha256: { string_param: this.model.sha256 },
        labels: { string_param: JSON.stringify(spec.labels) },
        threshold: { string_param: String(spec.threshold) },
        uncertain_band: { string_param: JSON.stringify(spec.uncertain_band) },
      },
      outputs: [fp32Output('probabilities', [preds.length, classes], probs), fp32Output('cam', camShape, cams), bytesOutput('label', labels)],
    };
  }
}

/** One image model served over OIP on host:port, with inference timings reported to `onInfer`. */
export async function serveImageModel(opts: {
  serverName: string;
  model: ImageClassifierModel;
  host: string;
  port: number;
  maxBatch?: number;
  onInfer?: (model: string, seconds: number, ok: boolean) => void;
}): Promise<{ server: OipServer; port: number }> {
  const server = new OipServer({
    serverName: opts.serverName,
    serverVersion: '1.0.0',
    models: [new ImageModelOip(opts.model, { maxBatch: opts.maxBatch })],
    onInfer: opts.onInfer,
  });
  const port = await server.listen(`${opts.host}:${opts.port}`);
  return { server, port };
}
