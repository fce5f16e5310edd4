import type { Registry } from 'prom-client';
import client from 'prom-client';
import type { Logger } from 'pino';
import { latencyBuckets } from './metrics.js';
import { onShutdown } from './shutdown.js';

/** What each service's start function hands back to its thin server.ts. */
export interface RunningService {
  httpPort: number;
  /** The OIP/gRPC port of a model server; absent for services without one. */
  grpcPort?: number;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * The whole of a service's main: read the configuration (a bad variable ends the process with its
 * name), start, and close cleanly on SIGTERM within the grace period.
 */
export async function runService<C extends { shutdownGraceMs: number }>(loadConfig: () => C, start: (cfg: C) => Promise<RunningService>): Promise<void> {
  try {
    const cfg = loadConfig();
    const app = await start(cfg);
    onShutdown(app.logger, cfg.shutdownGraceMs + 5_000, [() => app.close()]);
  } catch (err) {
    console.error((err as Error).name === 'ConfigError' ? (err as Error).message : err);
    process.exit(1);
  }
}

/** The inference-time histogram every model server exports, as an OIP onInfer callback. */
export function inferenceRecorder(registry: Registry): (model: string, seconds: number, ok: boolean) => void {
  const histogram = new client.Histogram({
    name: 'dfd_inference_duration_seconds',
    help: 'Model inference time per call',
    labelNames: ['model', 'outcome'],
    buckets: latencyBuckets,
    registers: [registry],
  });
  return (model, seconds, ok) => histogram.observe({ model, outcome: ok ? 'ok' : 'error' }, seconds);
}
