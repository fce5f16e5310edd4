import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { inferenceService } from './load.js';
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
  private readonly health: HealthImplementation;

  constructor(private readonly opts: OipServerOptions) {
    const max = opts.maxMessageBytes ?? 32 * 1024 * 1024;
    this.grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    this.grpcServer.addService(inferenceService().service, this.inferenceHandlers());
    // grpc.health.v1 (Check and Watch) from grpc-health-check; statuses follow setServing().
    this.health = new HealthImplementation(this.statusMap('SERVING'));
    this.health.addToServer(this.grpcServer);
  }

  async listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  setServing(serving: boolean): void {
    this.serving = serving;
    for (const [service, status] of Object.entries(this.statusMap(this.ready() ? 'SERVING' : 'NOT_SERVING'))) this.health.setStatus(service, status);
  }

  /** The server (''), the inference service and each model by name: health services a client may ask for. */
  private statusMap(status: ServingStatus): Record<string, ServingStatus> {
    const map: Record<string, ServingStatus> = { '': status, 'inference.GRPCInferenceService': status };
    for (const m of this.opts.models) map[m.name] = status;
    return map;
  }

  /** Stops taking calls, lets in-flight ones finish for up to `graceMs`, then forces. */
  async close(graceMs = 10_000): Promise<void> {
    this.setServing(false);
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

  private find(name: string, version?: string): OipModel | undefined {
    return this.opts.models.find((m) => m.name === name && (!version || m.version === version));
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
