import { EnvReader, readCommon, readOrtThreads, type CommonConfig } from '@dfd/config';

export interface ClassifierConfig extends CommonConfig {
  grpcPort: number;
  httpPort: number;
  host: string;
  modelName: string;
  modelVersion: string | undefined;
  ortThreads: number;
  maxBatch: number;
  shutdownGraceMs: number;
}

export function loadClassifierConfig(source: Record<string, string | undefined> = process.env): ClassifierConfig {
  const env = new EnvReader(source);
  const cfg: ClassifierConfig = {
    ...readCommon(env, 'classifier'),
    grpcPort: env.int('GRPC_PORT', 8102, { min: 0, max: 65535 }),
    httpPort: env.int('HTTP_PORT', 9102, { min: 0, max: 65535 }),
    host: env.string('HOST', '0.0.0.0'),
    modelName: env.string('CLASSIFIER_MODEL', 'classifier'),
    modelVersion: env.string('CLASSIFIER_MODEL_VERSION'),
    ortThreads: readOrtThreads(env),
    maxBatch: env.int('MAX_BATCH', 8, { min: 1, max: 64 }),
    shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  };
  env.done();
  return cfg;
}
