import { EnvReader, readCommon, type CommonConfig } from '@dfd/config';
import { readAdmissionConfig, type AdmissionConfig } from './plugins/admission.js';

export interface GatewayConfig extends CommonConfig {
  httpPort: number;
  /** /healthz, /readyz and /metrics on their own listener, which the Ingress does not expose. */
  opsPort: number;
  host: string;
  maxUploadBytes: number;
  maxPixels: number;
  workingSize: number;
  queueMaxWaiting: number;
  maxInflightDecodes: number;
  maxWaitSeconds: number;
  pixelTtlSeconds: number;
  maxConnections: number;
  /** Accept queue of the listening socket (the kernel caps it at net.core.somaxconn). */
  listenBacklog: number;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  corsOrigins: string[];
  trustProxy: boolean;
  shutdownGraceMs: number;
  /** Issue #4: public API safety. */
  allowAnonymous: boolean;
  apiKeyPepper: string | undefined;
  rateLimitPerMinute: number;
  maxConcurrentJobsPerKey: number;
  webhookSigningSecret: string;
  webhookSecretIsDefault: boolean;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookTimeoutMs: number;
  batchMaxFiles: number;
  batchMaxBytes: number;
  batchTtlSeconds: number;
  /** Admission by predicted wait (ADMISSION_*). */
  admission: AdmissionConfig;
}

/** Fixed so that several development replicas sign alike; production must set its own. */
export const DEV_WEBHOOK_SECRET = 'dfd-development-webhook-secret-do-not-use-in-production';

export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  const env = new EnvReader(source);
  const cfg: GatewayConfig = {
    ...readCommon(env, 'gateway'),
    httpPort: env.int('HTTP_PORT', 8080, { min: 0, max: 65535 }),
    opsPort: env.int('OPS_PORT', 9100, { min: 0, max: 65535 }),
    host: env.string('HOST', '0.0.0.0'),
    maxUploadBytes: env.int('MAX_UPLOAD_BYTES', 20 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }),
    maxPixels: env.int('MAX_PIXELS', 50_000_000, { min: 1, max: 1_000_000_000 }),
    workingSize: env.int('WORKING_SIZE', 512, { min: 64, max: 4096 }),
    queueMaxWaiting: env.int('QUEUE_MAX_WAITING', 2_000, { min: 1 }),
    // 8, not 32: under a 2,000-user k6 run on 2 cores, 32 uploads decoding at once queued behind
    // each other (accepts of admitted uploads took up to 2.5 s in the gateway, 85 % under 1 s);
    // with 8 the rest get a fast 429 busy instead and 99 % of accepts finish within 1 s
    // (loadtest/README.md, "Measured (2026-12-02, fourteenth session ...)").
    maxInflightDecodes: env.int('MAX_INFLIGHT_DECODES', 8, { min: 1, max: 4096 }),
    maxWaitSeconds: env.int('MAX_WAIT_SECONDS', 30, { min: 0, max: 120 }),
    pixelTtlSeconds: env.int('PIXEL_TTL_SECONDS', 3_600, { min: 60 }),
    maxConnections: env.int('MAX_CONNECTIONS', 0, { min: 0 }),
    // Node's default of 511 overflows when a couple of thousand clients connect at once: the
    // kernel drops their SYNs and they retry after 1, 3, 7, 15 s.
    listenBacklog: env.int('LISTEN_BACKLOG', 4_096, { min: 1, max: 65_535 }),
    // Longer than clients leave a connection idle between requests (think time, Retry-After
    // sleeps; Go's transport keeps idle connections 90 s): a server closing an idle socket just as
    // the client reuses it is a broken pipe / reset for the client (users-2000 had ~200 at 5 s).
    // The same as the Kubernetes manifests (65 s, above nginx's 60 s upstream keep-alive).
    keepAliveTimeoutMs: env.int('KEEP_ALIVE_TIMEOUT_MS', 65_000, { min: 0 }),
    requestTimeoutMs: env.int('REQUEST_TIMEOUT_MS', 60_000, { min: 1_000 }),
    corsOrigins: env.list('CORS_ORIGINS', []),
    trustProxy: env.bool('TRUST_PROXY', false),
    shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
    allowAnonymous: false,
    apiKeyPepper: env.string('API_KEY_PEPPER'),
    rateLimitPerMinute: env.int('RATE_LIMIT_PER_MINUTE', 120, { min: 0, max: 1_000_000 }),
    maxConcurrentJobsPerKey: env.int('MAX_CONCURRENT_JOBS_PER_KEY', 50, { min: 0, max: 1_000_000 }),
    webhookSigningSecret: '',
    webhookSecretIsDefault: false,
    webhookMaxAttempts: env.int('WEBHOOK_MAX_ATTEMPTS', 6, { min: 1, max: 20 }),
    webhookBackoffMs: env.int('WEBHOOK_BACKOFF_MS', 5_000, { min: 10, max: 3_600_000 }),
    webhookTimeoutMs: env.int('WEBHOOK_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    batchMaxFiles: env.int('BATCH_MAX_FILES', 50, { min: 1, max: 1_000 }),
    batchMaxBytes: env.int('BATCH_MAX_BYTES', 100 * 1024 * 1024, { min: 1024, max: 4 * 1024 * 1024 * 1024 }),
    batchTtlSeconds: env.int('BATCH_TTL_SECONDS', 86_400, { min: 60 }),
    admission: readAdmissionConfig(env),
  };
  const production = cfg.mode === 'production';
  cfg.allowAnonymous = env.bool('ALLOW_ANONYMOUS', !production);
  env.check(!production || cfg.apiKeyPepper !== undefined, 'API_KEY_PEPPER is required when APP_MODE=production (API keys are stored as HMAC-SHA256 with it)');
  env.check(cfg.apiKeyPepper === undefined || cfg.apiKeyPepper.length >= 16, 'API_KEY_PEPPER must be at least 16 characters');
  const secret = env.string('WEBHOOK_SIGNING_SECRET');
  env.check(!production || secret !== undefined, 'WEBHOOK_SIGNING_SECRET is required when APP_MODE=production (webhooks are signed with it)');
  env.check(secret === undefined || secret.length >= 16, 'WEBHOOK_SIGNING_SECRET must be at least 16 characters');
  cfg.webhookSigningSecret = secret ?? DEV_WEBHOOK_SECRET;
  cfg.webhookSecretIsDefault = secret === undefined;
  env.done();
  return cfg;
}
