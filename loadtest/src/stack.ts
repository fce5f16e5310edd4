/**
 * A multi-replica stack for the load driver and the benchmark, through the one launcher
 * (packages/stack, as `npm start` and the tests): a private Redis (no persistence: capacity is
 * under test), M classifiers, N detectors and the gateway on free loopback ports; plus the pid of
 * every process (for RSS/fd sampling) and an optional descriptor limit for the gateway alone.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchStack as launch, repoRoot, type ManagedProcess, type RedisServer } from '@dfd/stack';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';

export interface Service {
  name: string;
  kind: 'gateway' | 'detector' | 'classifier' | 'redis';
  proc: ManagedProcess;
  httpPort: number;
  /** Where /metrics is served (the gateway's ops listener; the HTTP port of the others). */
  opsPort?: number;
  grpcPort: number | undefined;
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
  /** Flags for node in every service (bench --cpu-prof). */
  nodeArgs?: string[];
  log?: (line: string) => void;
}

/** True when the trained models have landed in <repo>/models. */
export function realModelsPresent(dir = join(repoRoot, 'models')): boolean {
  const has = (name: string) => existsSync(join(dir, name)) && readdirSync(join(dir, name)).some((v) => existsSync(join(dir, name, v, 'model.json')));
  return has('detector') && has('classifier');
}

export async function launchStack(opts: LoadStackOptions = {}): Promise<LoadStack> {
  const log = opts.log ?? (() => undefined);
  const tiny = opts.tiny ?? !(opts.modelsDir ? existsSync(join(opts.modelsDir, 'detector')) : realModelsPresent());
  let modelsDir = opts.modelsDir ?? join(repoRoot, 'models');
  if (tiny) {
    modelsDir = mkdtempSync(join(tmpdir(), 'dfd-load-models-'));
    writeTinyModelSet(modelsDir);
  }
  const stack = await launch({
    detectors: opts.detectors,
    classifiers: opts.classifiers,
    modelsDir,
    ports: 'free',
    redisAppendOnly: false,
    // Tiny models have no face stage beside them; the real ones may.
    env: { LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...(tiny ? { FACE_STAGE: 'false' } : {}), ...opts.env },
    detectorEnv: opts.detectorEnv,
    // Capacity, not per-caller quotas, is under test: anonymous callers, no rate or job quota.
    gatewayEnv: { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0', ...opts.gatewayEnv },
    gatewayNofile: opts.gatewayNofile,
    nodeArgs: opts.nodeArgs,
    timeoutMs: 60_000,
  });
  const services: Service[] = [...stack.classifiers, ...stack.detectors, stack.gateway].map((p) => ({
    name: p.name,
    kind: p.kind,
    proc: p,
    httpPort: p.httpPort,
    opsPort: p.opsPort,
    grpcPort: p.grpcPort,
    get pid() {
      return p.pid;
    },
  }));
  const redis = stack.redis!;
  services.push({ name: 'redis', kind: 'redis', proc: redis, httpPort: 0, grpcPort: redis.port, get pid() { return redis.pid; } });
  log(`[load] stack: ${services.map((s) => `${s.name}(pid ${s.pid})`).join(', ')}; models ${tiny ? 'tiny (generated)' : modelsDir}`);
  return { url: stack.url, modelsDir, tinyModels: tiny, services, redis, stop: () => stack.stop() };
}
