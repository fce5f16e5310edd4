import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOutput, decodeInput, decodeRawBytes, encodeRawBytes, fp32Output, readOutput, type InferResponseMessage } from '../src/index.js';

test('BYTES elements survive the length-prefixed raw encoding', () => {
  const items = [Buffer.from('a'), Buffer.alloc(0), Buffer.from([0, 255, 7])];
  assert.deepEqual(decodeRawBytes(encodeRawBytes(items)), items);
});

test('decodes raw and typed inputs and checks the shape', () => {
  const raw = Buffer.from([1, 2, 3, 4, 5, 6]);
  const t = decodeInput({ model_name: 'm', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 1, 2, 3] }], raw_input_contents: [raw] }, 0);
  assert.deepEqual([...(t.data as Uint8Array)], [1, 2, 3, 4, 5, 6]);
  const f = decodeInput({ model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [0.5, -1] } }] }, 0);
  assert.deepEqual([...(f.data as Float32Array)], [0.5, -1]);
  assert.throws(() => decodeInput({ model_name: 'm', inputs: [{ name: 'image', datatype: 'UINT8', shape: [2, 3] }], raw_input_contents: [raw.subarray(0, 5)] }, 0), /needs 6 elements, got 5/);
});

test('reads outputs by name', () => {
  const res: InferResponseMessage = { model_name: 'm', model_version: '1', id: '', outputs: [fp32Output('probabilities', [1, 2], [0.25, 0.75]), bytesOutput('label', ['retouched'])] };
  assert.deepEqual(readOutput(res, 'probabilities').values, [0.25, 0.75]);
  assert.deepEqual(readOutput(res, 'label').strings, ['retouched']);
  assert.throws(() => readOutput(res, 'cam'), /no output "cam"/);
});
