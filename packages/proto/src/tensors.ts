/** OIP tensors as plain objects, plus the encoding of raw tensor bytes the protocol defines. */
export type Datatype = 'BOOL' | 'UINT8' | 'INT32' | 'INT64' | 'FP32' | 'FP64' | 'BYTES';

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface InferParameter {
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  parameter_choice?: string;
}

export interface TensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface WireTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameter>;
  contents?: TensorContents;
}

export interface InferRequestMessage {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameter>;
  inputs: WireTensor[];
  outputs?: Array<{ name: string }>;
  raw_input_contents?: Buffer[];
}

export interface InferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  outputs: WireTensor[];
  raw_output_contents?: Buffer[];
}

/** A decoded tensor: numbers for numeric types, a list of byte strings for BYTES. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: Uint8Array | Float32Array | Float64Array | Int32Array | number[] | boolean[] | Buffer[];
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** BYTES elements in raw form are each prefixed by a 4-byte little-endian length. */
export function decodeRawBytes(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 4 <= raw.length) {
    const len = raw.readUInt32LE(offset);
    offset += 4;
    if (offset + len > raw.length) throw new Error('BYTES tensor: element length runs past the end');
    out.push(raw.subarray(offset, offset + len));
    offset += len;
  }
  if (offset !== raw.length) throw new Error('BYTES tensor: trailing bytes');
  return out;
}

export function encodeRawBytes(items: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(item.length);
    parts.push(len, item);
  }
  return Buffer.concat(parts);
}

/** Reads input i of a request, from raw_input_contents when present, else from contents. */
export function decodeInput(req: InferRequestMessage, i: number): Tensor {
  const wire = req.inputs[i]!;
  const datatype = wire.datatype as Datatype;
  const raw = req.raw_input_contents && req.raw_input_contents.length > 0 ? req.raw_input_contents[i] : undefined;
  const shape = wire.shape.map(Number);
  const count = elementCount(shape);
  let data: Tensor['data'];
  if (raw) {
    switch (datatype) {
      case 'UINT8':
        data = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
        break;
      case 'FP32':
        data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        break;
      case 'BYTES':
        data = decodeRawBytes(raw);
        break;
      default:
        throw new Error(`unsupported raw datatype ${datatype}`);
    }
  } else {
    const c = wire.contents ?? {};
    switch (datatype) {
      case 'UINT8':
        data = Uint8Array.from(c.uint_contents ?? []);
        break;
      case 'FP32':
        data = Float32Array.from(c.fp32_contents ?? []);
        break;
      case 'BYTES':
        data = c.bytes_contents ?? [];
        break;
      default:
        throw new Error(`unsupported datatype ${datatype}`);
    }
  }
  if (data.length !== count) {
    throw new Error(`input "${wire.name}": shape ${JSON.stringify(shape)} needs ${count} elements, got ${data.length}`);
  }
  return { name: wire.name, datatype, shape, data };
}

export function fp32Output(name: string, shape: number[], values: ArrayLike<number>): WireTensor {
  return { name, datatype: 'FP32', shape, contents: { fp32_contents: Array.from(values) } };
}

export function bytesOutput(name: string, values: string[]): WireTensor {
  return { name, datatype: 'BYTES', shape: [values.length], contents: { bytes_contents: values.map((v) => Buffer.from(v)) } };
}

/** Reads output `name` of a response as numbers (FP32) or strings (BYTES). */
export function readOutput(res: InferResponseMessage, name: string): { shape: number[]; values: number[]; strings: string[] } {
  const idx = res.outputs.findIndex((o) => o.name === name);
  if (idx < 0) throw new Error(`response has no output "${name}"`);
  const out = res.outputs[idx]!;
  const raw = res.raw_output_contents && res.raw_output_contents.length > 0 ? res.raw_output_contents[idx] : undefined;
  const shape = out.shape.map(Number);
  if (raw) {
    if (out.datatype === 'FP32') {
      return { shape, values: Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))), strings: [] };
    }
    if (out.datatype === 'BYTES') return { shape, values: [], strings: decodeRawBytes(raw).map((b) => b.toString()) };
  }
  return {
    shape,
    values: out.contents?.fp32_contents ?? [],
    strings: (out.contents?.bytes_contents ?? []).map((b) => Buffer.from(b).toString()),
  };
}
