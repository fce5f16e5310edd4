import * as grpc from '@grpc/grpc-js';
import { healthService, inferenceService } from './load.js';
import type { InferRequestMessage, InferResponseMessage, TensorMetadata } from './tensors.js';

/** What a model server exposes through the Open Inference Protocol. */
export interface OipModel {
  name: string;
  version: string;
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  isReady(): boolean;
  infer(request: InferRequestMessage): Promise<InferResponseMessage>;
}

/** Thrown by a model for bad requests; mapped to INVALID_ARGUMENT rather than INTERNAL. */
export class InvalidInferRequest extends Error {}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

export interface OipServerOptions {
  serverName: string;
  serverVersion: string;
  models: OipModel[];
  onInfer?: (model: string, seconds: number, ok: boolean) => void;
  maxMessageBytes?: number;
}

/**
 * An OIP (KServe v2) gRPC server with grpc.health.v1. Health reports SERVING only while every
 * model is ready; `setServing(false)` flips it during shutdown so balancers drain this replica.
 */
export class OipServer {
  readonly grpcServer: grpc.Server;
  private serving = true;
  private readonly watchers = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(private readonly opts: OipServerOptions) {
    const max = opts.maxMessageBytes ?? 32 * 1024 * 1024;
    this.grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    this.grpcServer.addService(inferenceService().service, this.inferenceHandlers());
    this.grpcServer.addService(healthService().service, this.healthHandlers());
  }

  async listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  setServing(serving: boolean): void {
    this.serving = serving;
    for (const w of this.watchers) w.write({ status: this.status('') });
  }

  /** Stops taking calls, lets in-flight ones finish for up to `graceMs`, then forces. */
  async close(graceMs = 10_000): Promise<void> {
    this.setServing(false);
    for (const w of this.watchers) w.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, graceMs);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private ready(): boolean {
    return this.serving && this.opts.models.every((m) => m.isReady());
  }

  private status(service: string): string {
    if (service !== '' && !this.opts.models.some((m) => m.name === service) && service !== 'inference.GRPCInferenceService') {
      return 'SERVICE_UNKNOWN';
    }
    return this.ready() ? 'SERVING' : 'NOT_SERVING';
  }

  private find(name: string, version?: string): OipModel | undefined {
    return this.opts.models.find((m) => m.name === name && (!version || m.version === version));
  }

  private healthHandlers(): grpc.UntypedServiceImplementation {
    return {
      Check: ((call, cb) => {
        const status = this.status(call.request.service ?? '');
        if (status === 'SERVICE_UNKNOWN') return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        cb(null, { status });
      }) as Unary<{ service?: string }, { status: string }>,
      Watch: (call: grpc.ServerWritableStream<{ service?: string }, { status: string }>) => {
        call.write({ status: this.status(call.request.service ?? '') });
        this.watchers.add(call as grpc.ServerWritableStream<unknown, unknown>);
        call.on('cancelled', () => this.watchers.delete(call as grpc.ServerWritableStream<unknown, unknown>));
      },
    };
  }

  private inferenceHandlers(): grpc.UntypedServiceImplementation {
    const notFound = (name: string) => ({ code: grpc.status.NOT_FOUND, details: `model "${name}" not found` });
    const handlers: Record<string, Unary<any, any>> = {
      ServerLive: (_call, cb) => cb(null, { live: true }),
      ServerReady: (_call, cb) => cb(null, { ready: this.ready() }),
      ServerMetadata: (_call, cb) => cb(null, { name: this.opts.serverName, version: this.opts.serverVersion, extensions: [] }),
      ModelReady: (call, cb) => {
        const m = this.find(call.request.name, call.request.version);
        if (!m) return cb(notFound(call.request.name));
        cb(null, { ready: this.serving && m.isReady() });
      },
      ModelMetadata: (call, cb) => {
        const m = this.find(call.request.name, call.request.version);
        if (!m) return cb(notFound(call.request.name));
        cb(null, { name: m.name, versions: [m.version], platform: m.platform, inputs: m.inputs, outputs: m.outputs });
      },
      ModelInfer: (call, cb) => {
        const req = call.request as InferRequestMessage;
        const m = this.find(req.model_name, req.model_version);
        if (!m) return cb(notFound(req.model_name));
        if (!this.serving || !m.isReady()) return cb({ code: grpc.status.UNAVAILABLE, details: 'model not ready' });
        const started = process.hrtime.bigint();
        m.infer(req).then(
          (res) => {
            this.opts.onInfer?.(m.name, Number(process.hrtime.bigint() - started) / 1e9, true);
            cb(null, res);
          },
          (err: Error) => {
            this.opts.onInfer?.(m.name, Number(process.hrtime.bigint() - started) / 1e9, false);
            const code = err instanceof InvalidInferRequest ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
            cb({ code, details: err.message });
          },
        );
      },
    };
    return handlers;
  }
}
