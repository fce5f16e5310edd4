import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { OipClient, protoFiles, readOutput } from '@dfd/proto';
import { startRedis, startService, type RedisServer, type ServiceHandle } from '@dfd/test-support/processes';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';

function call<T>(client: any, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, { deadline: Date.now() + 5000 }, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))));
}

async function inferenceCount(svc: ServiceHandle): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
  const m = /dfd_inference_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('classifier model server over the Open Inference Protocol', () => {
  let redis: RedisServer;
  const classifiers: ServiceHandle[] = [];
  before(async () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'dfd-models-'));
    writeTinyModelSet(modelsDir);
    redis = await startRedis();
    for (let i = 0; i < 2; i++) classifiers.push(await startService('classifier', { MODELS_DIR: modelsDir, REDIS_URL: redis.url }));
  });
  after(async () => {
    await Promise.all(classifiers.map((c) => c.stop()));
    await redis?.stop('SIGKILL');
  });

  it('answers a plain OIP client generated from the proto (health, metadata, ModelInfer with an encoded image)', async () => {
    // No project code on the client side: only grpc-js and the .proto files, as any OIP client would.
    const def = protoLoader.loadSync([protoFiles.oip, protoFiles.health], { keepCase: true, longs: Number, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const address = `127.0.0.1:${classifiers[0]!.grpcPort}`;
    const client = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
    const health = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
    try {
      assert.deepEqual(await call(client, 'ServerLive', {}), { live: true });
      assert.equal(((await call(health, 'Check', { service: '' })) as any).status, 'SERVING');
      const meta: any = await call(client, 'ModelMetadata', { name: 'classifier' });
      assert.equal(meta.name, 'classifier');
      assert.equal(meta.inputs[0].name, 'image');
      assert.equal(((await call(client, 'ModelReady', { name: 'classifier' })) as any).ready, true);
      await assert.rejects(call(client, 'ModelReady', { name: 'nope' }), /not found/);

      const png = await colourImage('png', RED, 80, 1);
      const res: any = await call(client, 'ModelInfer', {
        model_name: 'classifier',
        id: 'req-1',
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [png] } }],
      });
      assert.equal(res.id, 'req-1');
      const probs = res.outputs.find((o: any) => o.name === 'probabilities');
      assert.deepEqual(probs.shape.map(Number), [1, 2]);
      assert.ok(probs.contents.fp32_contents[1] > 0.9, 'red is retouched for the fixture model');
      const label = res.outputs.find((o: any) => o.name === 'label');
      assert.equal(Buffer.from(label.contents.bytes_contents[0]).toString(), 'retouched');

      await assert.rejects(
        call(client, 'ModelInfer', { model_name: 'classifier', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, 4, 4, 3], contents: { uint_contents: [1, 2, 3] } }] }),
        (err: any) => err.code === grpc.status.INVALID_ARGUMENT,
      );
    } finally {
      client.close();
      health.close();
    }
  });

  it('spreads calls round-robin over every classifier replica', async () => {
    const before = await Promise.all(classifiers.map(inferenceCount));
    const client = new OipClient({ target: `ipv4:${classifiers.map((c) => `127.0.0.1:${c.grpcPort}`).join(',')}`, deadlineMs: 3000 });
    const img = await colourImage('png', BLUE, 32, 2);
    try {
      for (let i = 0; i < 20; i++) {
        const res = await client.modelInfer({ model_name: 'classifier', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [img] } }] });
        assert.equal(readOutput(res, 'probabilities').values.length, 2);
      }
    } finally {
      client.close();
    }
    const after = await Promise.all(classifiers.map(inferenceCount));
    const served = after.map((a, i) => a - before[i]!);
    assert.equal(served.reduce((a, b) => a + b, 0), 20);
    assert.ok(served.every((n) => n >= 5), `both replicas served calls: ${served.join(', ')}`);
  });
});
