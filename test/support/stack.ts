/** A whole local stack (redis, classifier(s), detector(s), gateway) as real processes. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, startService, type RedisServer, type ServiceHandle } from './processes.js';
import { writeTinyModelSet } from './tiny-onnx.js';

export interface Stack {
  redis: RedisServer;
  classifiers: ServiceHandle[];
  detectors: ServiceHandle[];
  gateway: ServiceHandle;
  url: string;
  modelsDir: string;
  env: Record<string, string>;
  addDetector(): Promise<ServiceHandle>;
  stop(): Promise<void>;
}

export async function startStack(opts: { classifiers?: number; detectors?: number; modelsDir?: string; env?: Record<string, string>; gatewayEnv?: Record<string, string>; detectorEnv?: Record<string, string> } = {}): Promise<Stack> {
  const modelsDir = opts.modelsDir ?? mkdtempSync(join(tmpdir(), 'dfd-models-'));
  if (!opts.modelsDir) writeTinyModelSet(modelsDir);
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, MODELS_DIR: modelsDir, QUEUE_NAME: 'analyses', FACE_STAGE: 'false', ...opts.env };
  const classifiers: ServiceHandle[] = [];
  for (let i = 0; i < (opts.classifiers ?? 1); i++) classifiers.push(await startService('classifier', env));
  const target = `ipv4:${classifiers.map((c) => `127.0.0.1:${c.grpcPort}`).join(',')}`;
  const detectorEnv = { ...env, CLASSIFIER_TARGET: target, CLASSIFIER_DEADLINE_MS: '2000', ...opts.detectorEnv };
  const detectors: ServiceHandle[] = [];
  const addDetector = async () => {
    const d = await startService('detector', detectorEnv);
    detectors.push(d);
    return d;
  };
  for (let i = 0; i < (opts.detectors ?? 1); i++) await addDetector();
  const gateway = await startService('gateway', { ...env, ...opts.gatewayEnv }, '/readyz');
  return {
    redis,
    classifiers,
    detectors,
    gateway,
    url: `http://127.0.0.1:${gateway.httpPort}`,
    modelsDir,
    env,
    addDetector,
    async stop() {
      await Promise.all([gateway, ...detectors, ...classifiers].map((p) => p.stop('SIGTERM', 5_000)));
      await redis.stop('SIGKILL');
    },
  };
}
