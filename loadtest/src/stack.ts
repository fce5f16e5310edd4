/**
 * A multi-replica stack as real processes for the load driver and the benchmark: a private Redis,
 * M classifiers, N detectors and the gateway, each on free loopback ports. Like
 * test/support/stack.ts, plus: the pid of every process (for RSS/fd sampling) and an optional
 * descriptor limit (`ulimit -n`) for the gateway alone.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess, repoRoot, startRedis, waitFor, type RedisServer } from '../../test/support/processes.js';
import { writeTinyModelSet } from '../../test/support/tiny-onnx.js';

export interface Service {
  name: string;
  kind: 'gateway' | 'detector' | 'classifier' | 'redis';
  proc: ManagedProcess;
  httpPort: number;
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
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const script = join(repoRoot, 'services', kind, 'dist', 'server.js');
  const cmd = nofile ? '/bin/sh' : process.execPath;
  const args = nofile ? ['-c', `ulimit -n ${nofile} && exec "$0" "$1"`, process.execPath, script] : [script];
  const proc = new ManagedProcess(name, cmd, args, {
    LOG_LEVEL: 'warn',
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    HOST: '127.0.0.1',
    ORT_INTRA_OP_THREADS: '1',
    ...env,
  }).start();
  try {
    await waitFor(`${name} on ${httpPort}`, async () => {
      if (!proc.alive) throw new Error(`${name} exited:\n${proc.output}`);
      return (await fetch(`http://127.0.0.1:${httpPort}${waitPath}`)).ok;
    }, 60_000, 150);
  } catch (err) {
    await proc.kill();
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${proc.output}`);
  }
  return { name, kind, proc, httpPort, grpcPort, get pid() { return proc.child?.pid ?? 0; } };
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
