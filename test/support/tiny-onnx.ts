/**
 * Builds small but real ONNX image classifiers at test time (no Python needed), shaped like the
 * shipped models: input [N,3,H,W] -> logits [N,2] and a class activation map [N,2,h,w]. The
 * weights make the positive class follow the red-minus-blue balance of the picture, so tests can
 * choose the verdict by the colour of the image they upload.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const schema = `
syntax = "proto3";
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; string name = 8; }
message AttributeProto { string name = 1; float f = 2; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; }
message Dimension { int64 dim_value = 1; string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TensorTypeProto { int32 elem_type = 1; TensorShapeProto shape = 2; }
message TypeProto { TensorTypeProto tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const INT = 2;
const INTS = 7;
const FLOAT_T = 1;

function valueInfo(name: string, dims: Array<number | string>) {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT_T, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  };
}

export interface TinyModelOptions {
  name: string;
  labels: [string, string];
  positive: string;
  size?: number;
  threshold?: number;
  band?: [number, number];
  /** Multiplies the colour balance; larger gives more confident scores. */
  gain?: number;
  /** Swaps the colour rule (blue-dominant → positive). */
  invert?: boolean;
  /**
   * Weighs the picture by a left-to-right ramp (0 at the left edge, 2 at the right) before the
   * colour rule: the score then depends on which side the colour is, so a mirror changes it.
   */
  ramp?: boolean;
  /** Written into model.json as `mirror_average: { within }`. */
  mirrorWithin?: number;
}

/** Writes models/<name>/<version>/model.onnx + model.json under `modelsDir` and returns the folder. */
export function writeTinyModel(modelsDir: string, opts: TinyModelOptions, version = '0.0.1-test'): string {
  const size = opts.size ?? 64;
  const pool = 8;
  const h = size / pool;
  const gain = (opts.gain ?? 6) * (opts.invert ? -1 : 1);
  const root = protobuf.parse(schema, { keepCase: true }).root;
  const Model = root.lookupType('ModelProto');
  // Features: f0 = relu(r - b), f1 = relu(b - r), f2 = relu(g), f3 = 1 (bias-like).
  const convW = [1, 0, -1, -1, 0, 1, 0, 1, 0, 0, 0, 0];
  const convB = [0, 0, 0, 1];
  // Positive class logit rises with f0 and falls with f1; the negative class is the mirror.
  const gemmW = [-gain, gain, 0, 0, gain, -gain, 0, 0];
  const graph = {
    name: opts.name,
    node: [
      ...(opts.ramp ? [{ op_type: 'Mul', input: ['input', 'ramp'], output: ['weighted'] }] : []),
      { op_type: 'AveragePool', input: [opts.ramp ? 'weighted' : 'input'], output: ['pooled'], attribute: [{ name: 'kernel_shape', ints: [pool, pool], type: INTS }, { name: 'strides', ints: [pool, pool], type: INTS }] },
      { op_type: 'Conv', input: ['pooled', 'conv_w', 'conv_b'], output: ['conv'], attribute: [{ name: 'kernel_shape', ints: [1, 1], type: INTS }] },
      { op_type: 'Relu', input: ['conv'], output: ['feat'] },
      { op_type: 'GlobalAveragePool', input: ['feat'], output: ['gap'] },
      { op_type: 'Flatten', input: ['gap'], output: ['flat'], attribute: [{ name: 'axis', i: 1, type: INT }] },
      { op_type: 'Gemm', input: ['flat', 'fc_w', 'fc_b'], output: ['logits'], attribute: [{ name: 'transB', i: 1, type: INT }] },
      { op_type: 'Conv', input: ['feat', 'cam_w'], output: ['cam'], attribute: [{ name: 'kernel_shape', ints: [1, 1], type: INTS }] },
    ],
    initializer: [
      { name: 'conv_w', dims: [4, 3, 1, 1], data_type: FLOAT_T, float_data: convW },
      { name: 'conv_b', dims: [4], data_type: FLOAT_T, float_data: convB },
      { name: 'fc_w', dims: [2, 4], data_type: FLOAT_T, float_data: gemmW },
      { name: 'fc_b', dims: [2], data_type: FLOAT_T, float_data: [0, 0] },
      { name: 'cam_w', dims: [2, 4, 1, 1], data_type: FLOAT_T, float_data: gemmW },
      ...(opts.ramp ? [{ name: 'ramp', dims: [1, 1, 1, size], data_type: FLOAT_T, float_data: Array.from({ length: size }, (_, x) => (2 * x) / (size - 1)) }] : []),
    ],
    input: [valueInfo('input', ['N', 3, size, size])],
    output: [valueInfo('logits', ['N', 2]), valueInfo('cam', ['N', 2, h, h])],
  };
  const msg = Model.fromObject({ ir_version: 8, producer_name: 'dfd-test', graph, opset_import: [{ domain: '', version: 17 }] });
  const bytes = Buffer.from(Model.encode(msg).finish());
  const dir = join(modelsDir, opts.name, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), bytes);
  const spec = {
    name: opts.name,
    version,
    description: 'test fixture: colour-balance classifier',
    file: 'model.onnx',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, size, size] }],
    outputs: [
      { name: 'logits', datatype: 'FP32', shape: [-1, 2] },
      { name: 'cam', datatype: 'FP32', shape: [-1, 2, h, h] },
    ],
    preprocessing: { width: size, height: size, resize: 'bilinear', channel_order: 'RGB', layout: 'NCHW', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    labels: opts.labels,
    positive_label: opts.positive,
    threshold: opts.threshold ?? 0.5,
    uncertain_band: opts.band ?? [0.4, 0.6],
    ...(opts.mirrorWithin ? { mirror_average: { within: opts.mirrorWithin } } : {}),
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** A detector (edited when red dominates) and a classifier (retouched when red dominates). */
export function writeTinyModelSet(modelsDir: string): void {
  writeTinyModel(modelsDir, { name: 'detector', labels: ['real', 'edited'], positive: 'edited' });
  writeTinyModel(modelsDir, { name: 'classifier', labels: ['deepfake', 'retouched'], positive: 'retouched' });
}
