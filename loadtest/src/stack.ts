/**
 * A multi-replica stack as real processes for the load driver and the benchmark: a private Redis,
 * M classifiers, N detectors and the gateway, each on free loopback ports. Like
 * test/support/stack.ts, plus: the pid of every process (for RSS/fd sampling) and an optional
 * descriptor limit (`ulimit -n`) for the gateway alone.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, repoRoot, startRedis, startService, type RedisServer, type ServiceName } from '../../test/support/processes.js';
import { writeTinyModelSet } from '../../test/support/tiny-onnx.js';

export interface Service {
  name: string;
  kind: 'gateway' | 'detector' | 'classifier' | 'redis';
  proc: ManagedProcess;
  httpPort: number;
  /** Where /metrics is served (the gateway's ops listener; the HTTP port of the others). */
  opsPort?: number;
  grpcPort: number;
  get pid(): number;
}

export interface LoadStack {
  url: string;
  modelsDir: string;
  tinyModels: boolean;
  services: Service[];
  redis: RedisServer;
  stop(): Promise<void>;
}

export interface LoadStackOptions {
  detectors?: number;
  classifiers?: number;
  /** models/ with detector/ and classifier/; tiny generated models when absent or `tiny`. */
  modelsDir?: string;
  tiny?: boolean;
  /** `ulimit -n` for the gateway process only. */
  gatewayNofile?: number;
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  detectorEnv?: Record<string, string>;
  log?: (line: string) => void;
}

/** True when the trained models have landed in <repo>/models. */
export function realModelsPresent(dir = join(repoRoot, 'models')): boolean {
  return existsSync(join(dir, 'detector', '1.0.0', 'model.json')) && existsSync(join(dir, 'classifier', '1.0.0', 'model.json'));
}

async function start(kind: Service['kind'], name: string, env: Record<string, string>, waitPath: string, nofile?: number): Promise<Service> {
  const proc = await startService(kind as ServiceName, env, waitPath, { nofile, timeoutMs: 60_000 });
  return { name, kind, proc, httpPort: proc.httpPort, opsPort: proc.opsPort, grpcPort: proc.grpcPort, get pid() { return proc.child?.pid ?? 0; } };
}

export async function launchStack(opts: LoadStackOptions = {}): Promise<LoadStack> {
  const log = opts.log ?? (() => undefined);
  const tiny = opts.tiny ?? !(opts.modelsDir ? existsSync(join(opts.modelsDir, 'detector')) : realModelsPresent());
  let modelsDir = opts.modelsDir ?? join(repoRoot, 'models');
  if (tiny) {
    modelsDir = mkdtempSync(join(tmpdir(), 'dfd-load-models-'));
    writeTinyModelSet(modelsDir);
  }
  const redis = await startRedis();
  const services: Service[] = [];
  const stop = async () => {
    const order: Service['kind'][] = ['gateway', 'detector', 'classifier'];
    for (const kind of order) await Promise.all(services.filter((s) => s.kind === kind).map((s) => s.proc.stop('SIGTERM', 10_000)));
    await redis.stop('SIGKILL');
  };
  try {
    // Tiny models have no face stage beside them; the real ones may.
    const env = { REDIS_URL: redis.url, MODELS_DIR: modelsDir, QUEUE_NAME: 'analyses', ...(tiny ? { FACE_STAGE: 'false' } : {}), ...opts.env };
    for (let i = 0; i < (opts.classifiers ?? 1); i++) services.push(await start('classifier', `classifier-${i}`, env, '/healthz'));
    const target = `ipv4:${services.filter((s) => s.kind === 'classifier').map((c) => `127.0.0.1:${c.grpcPort}`).join(',')}`;
    const detectorEnv = { ...env, CLASSIFIER_TARGET: target, ...opts.detectorEnv };
    await Promise.all(Array.from({ length: opts.detectors ?? 1 }, (_, i) => start('detector', `detector-${i}`, detectorEnv, '/healthz').then((s) => services.push(s))));
    // Capacity, not per-caller quotas, is under test: anonymous callers, no rate or job quota.
    const gatewayEnv = { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0', ...env, ...opts.gatewayEnv };
    services.push(await start('gateway', 'gateway', gatewayEnv, '/readyz', opts.gatewayNofile));
  } catch (err) {
    await stop();
    throw err;
  }
  const gateway = services.find((s) => s.kind === 'gateway')!;
  const redisService: Service = { name: 'redis', kind: 'redis', proc: redis, httpPort: 0, grpcPort: redis.port, get pid() { return redis.child?.pid ?? 0; } };
  services.push(redisService);
  log(`[load] stack: ${services.map((s) => `${s.name}(pid ${s.pid})`).join(', ')}; models ${tiny ? 'tiny (generated)' : modelsDir}`);
  return { url: `http://127.0.0.1:${gateway.httpPort}`, modelsDir, tinyModels: tiny, services, redis, stop };
}
