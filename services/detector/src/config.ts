import { EnvReader, readCommon, readOrtThreads, type CommonConfig } from '@dfd/config';

export interface DetectorConfig extends CommonConfig {
  httpPort: number;
  host: string;
  classifierTarget: string;
  classifierDeadlineMs: number;
  classifierRetries: number;
  concurrency: number;
  ortThreads: number;
  lockDurationMs: number;
  shutdownGraceMs: number;
  faceStage: boolean;
  /** How long the models' answer for identical pixels is reused (0 = never). */
  modelReuseTtlSeconds: number;
  /** How long a job may stay parked during a classifier outage before its attempts are spent. */
  maxParkMs: number;
  /** Overrides of the model's calibrated decision values (unset = use model.json). */
  editedThreshold: number | undefined;
  uncertainLow: number | undefined;
  uncertainHigh: number | undefined;
}

export function loadDetectorConfig(source: Record<string, string | undefined> = process.env): DetectorConfig {
  const env = new EnvReader(source);
  const optionalProbability = (name: string) => (source[name]?.trim() ? env.number(name, 0.5, { min: 0, max: 1 }) : undefined);
  const cfg: DetectorConfig = {
    ...readCommon(env, 'detector'),
    httpPort: env.int('HTTP_PORT', 9101, { min: 0, max: 65535 }),
    host: env.string('HOST', '0.0.0.0'),
    classifierTarget: env.string('CLASSIFIER_TARGET', 'ipv4:127.0.0.1:8102'),
    classifierDeadlineMs: env.int('CLASSIFIER_DEADLINE_MS', 5_000, { min: 50 }),
    classifierRetries: env.int('CLASSIFIER_RETRIES', 3, { min: 0, max: 10 }),
    concurrency: env.int('DETECTOR_CONCURRENCY', 8, { min: 1, max: 256 }),
    ortThreads: readOrtThreads(env),
    lockDurationMs: env.int('JOB_LOCK_MS', 30_000, { min: 1_000 }),
    shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 30_000, { min: 0 }),
    faceStage: env.bool('FACE_STAGE', true),
    modelReuseTtlSeconds: env.int('MODEL_REUSE_TTL_SECONDS', 3_600, { min: 0 }),
    maxParkMs: env.int('CLASSIFIER_OUTAGE_MAX_PARK_MS', 3_600_000, { min: 0 }),
    editedThreshold: optionalProbability('EDITED_THRESHOLD'),
    uncertainLow: optionalProbability('UNCERTAIN_LOW'),
    uncertainHigh: optionalProbability('UNCERTAIN_HIGH'),
  };
  if (cfg.uncertainLow !== undefined && cfg.uncertainHigh !== undefined) {
    env.check(cfg.uncertainLow <= cfg.uncertainHigh, 'UNCERTAIN_LOW must not exceed UNCERTAIN_HIGH');
  }
  env.done();
  return cfg;
}
