import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvReader } from './env.js';

export type AppMode = 'development' | 'production';

/** Settings every service shares. */
export interface CommonConfig {
  mode: AppMode;
  logLevel: string;
  redisUrl: string;
  queueName: string;
  modelsDir: string;
  serviceName: string;
}

/** Walks up from this file to the repository root (the folder holding pnpm-workspace.yaml). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function readCommon(env: EnvReader, serviceName: string): CommonConfig {
  return {
    mode: env.oneOf('APP_MODE', ['development', 'production'] as const, 'development'),
    logLevel: env.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    redisUrl: env.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queueName: env.string('QUEUE_NAME', 'analyses'),
    modelsDir: resolve(env.string('MODELS_DIR', join(repoRoot(), 'models'))),
    serviceName,
  };
}

/** onnxruntime threads: explicit setting, else the CPU share the container was given. */
export function readOrtThreads(env: EnvReader): number {
  return env.int('ORT_INTRA_OP_THREADS', Math.max(1, Math.min(4, availableParallelism())), { min: 1, max: 64 });
}
