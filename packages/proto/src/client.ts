import * as grpc from '@grpc/grpc-js';
import { healthService, inferenceService } from './load.js';
import type { InferRequestMessage, InferResponseMessage } from './tensors.js';

export interface OipClientOptions {
  /** gRPC target: `dns:///host:port` (every A record of a headless Service) or `ipv4:a:p,b:q`. */
  target: string;
  deadlineMs?: number;
  retries?: number;
  backoffMs?: number;
  onCall?: (method: string, seconds: number, code: grpc.status) => void;
}

// Codes worth another try on another (or the same, restarted) backend.
const TRANSIENT = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED]);

export function isTransient(err: unknown): boolean {
  return typeof (err as grpc.ServiceError)?.code === 'number' && TRANSIENT.has((err as grpc.ServiceError).code);
}

/**
 * OIP client with client-side round-robin over all resolved addresses (one HTTP/2 connection
 * per backend rather than one sticky connection), a deadline on every call (covering its retries)
 * and the channel's retries with exponential backoff for transient failures.
 */
export class OipClient {
  private readonly client: grpc.Client & Record<string, any>;
  private readonly health: grpc.Client & Record<string, any>;
  private readonly deadlineMs: number;

  constructor(private readonly opts: OipClientOptions) {
    const channelOptions: grpc.ChannelOptions = {
      // Round robin over every resolved address, and grpc-js's own retries (gRFC A6) for calls that
      // failed before any backend answered them: another try, on another backend, with backoff.
      'grpc.service_config': JSON.stringify({
        loadBalancingConfig: [{ round_robin: {} }],
        methodConfig: [{
          name: [{ service: 'inference.GRPCInferenceService' }],
          retryPolicy: {
            maxAttempts: Math.min(5, (opts.retries ?? 3) + 1),
            initialBackoff: `${((opts.backoffMs ?? 200) / 1000).toFixed(3)}s`,
            maxBackoff: '2s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED'],
          },
        }],
      }),
      'grpc.max_receive_message_length': 32 * 1024 * 1024,
      'grpc.max_send_message_length': 32 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      // Short reconnect backoff so a restarted model server is used again within seconds.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
      'grpc.dns_min_time_between_resolutions_ms': 5_000,
    };
    const Ctor = inferenceService();
    this.client = new Ctor(opts.target, grpc.credentials.createInsecure(), channelOptions) as any;
    const HealthCtor = healthService();
    this.health = new HealthCtor(opts.target, grpc.credentials.createInsecure(), channelOptions) as any;
    this.deadlineMs = opts.deadlineMs ?? 5_000;
  }

  private callOnce<Res>(client: Record<string, any>, method: string, request: unknown, deadlineMs: number): Promise<Res> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      client[method](request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Res) => {
        this.opts.onCall?.(method, Number(process.hrtime.bigint() - started) / 1e9, err ? err.code : grpc.status.OK);
        if (err) reject(err);
        else resolve(res);
      });
    });
  }

  /** One call; retries happen inside the channel (see the service config), within the same deadline. */
  private call<Res>(client: Record<string, any>, method: string, request: unknown): Promise<Res> {
    return this.callOnce<Res>(client, method, request, this.deadlineMs);
  }

  modelInfer(request: InferRequestMessage): Promise<InferResponseMessage> {
    return this.call(this.client, 'ModelInfer', request);
  }

  modelReady(name: string, version = ''): Promise<{ ready: boolean }> {
    return this.call(this.client, 'ModelReady', { name, version });
  }

  modelMetadata(name: string, version = ''): Promise<any> {
    return this.call(this.client, 'ModelMetadata', { name, version });
  }

  serverLive(): Promise<{ live: boolean }> {
    return this.call(this.client, 'ServerLive', {});
  }

  serverReady(): Promise<{ ready: boolean }> {
    return this.call(this.client, 'ServerReady', {});
  }

  /** One quick health probe (no retries), for readiness endpoints. */
  async healthCheck(service = '', timeoutMs = 1_000): Promise<string> {
    const res = await this.callOnce<{ status: string }>(this.health, 'Check', { service }, timeoutMs);
    return res.status;
  }

  close(): void {
    this.client.close();
    this.health.close();
  }
}
