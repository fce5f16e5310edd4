/** A whole local stack (redis, classifier(s), detector(s), gateway) as real processes, via the one launcher (packages/stack). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchStack, type RedisServer, type ServiceHandle, type Stack as LaunchedStack } from '@dfd/stack';
import { writeTinyModelSet } from './tiny-onnx.js';

export interface Stack {
  redis: RedisServer;
  classifiers: ServiceHandle[];
  detectors: ServiceHandle[];
  gateway: ServiceHandle;
  url: string;
  modelsDir: string;
  env: Record<string, string>;
  launched: LaunchedStack;
  addDetector(): Promise<ServiceHandle>;
  stop(): Promise<void>;
}

export async function startStack(opts: { classifiers?: number; detectors?: number; modelsDir?: string; env?: Record<string, string>; gatewayEnv?: Record<string, string>; detectorEnv?: Record<string, string> } = {}): Promise<Stack> {
  const modelsDir = opts.modelsDir ?? mkdtempSync(join(tmpdir(), 'dfd-models-'));
  if (!opts.modelsDir) writeTinyModelSet(modelsDir);
  const launched = await launchStack({
    classifiers: opts.classifiers,
    detectors: opts.detectors,
    modelsDir,
    ports: 'free',
    env: { LOG_LEVEL: 'warn', HOST: '127.0.0.1', FACE_STAGE: 'false', ...opts.env },
    gatewayEnv: opts.gatewayEnv,
    detectorEnv: { CLASSIFIER_DEADLINE_MS: '2000', ...opts.detectorEnv },
    timeoutMs: 30_000,
  });
  return {
    // Fault tests kill and restart this Redis themselves (not supervised here).
    get redis() {
      return launched.redis!;
    },
    classifiers: launched.classifiers,
    detectors: launched.detectors,
    gateway: launched.gateway,
    url: launched.url,
    modelsDir,
    env: launched.env,
    launched,
    addDetector: () => launched.addDetector(),
    stop: () => launched.stop(),
  };
}
