import type { FastifyInstance } from 'fastify';
import type { ConnectionOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@dfd/telemetry';
import type { AnalysisService } from './analysis-service.js';
import { ApiKeyStore } from './auth/api-keys.js';
import { authPlugin } from './auth/auth-plugin.js';
import { BatchStore } from './batch-store.js';
import type { GatewayConfig } from './config.js';
import { ApiError } from './errors.js';
import { admission } from './limits/admission.js';
import { JobQuota, RateLimiter } from './limits/rate-limiter.js';
import { analysesRoutes } from './routes/analyses.js';
import { batchRoutes, batchSchema } from './routes/batches.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { CallbackForbidden, callbackPolicy, checkCallbackUrl } from './webhooks/ssrf.js';

export interface PublicApiDeps {
  cfg: GatewayConfig;
  redis: Redis;
  connection: ConnectionOptions;
  queue: Queue;
  events: QueueEvents;
  service: AnalysisService;
  logger: Logger;
  /** Start the webhook listener and worker (false for the OpenAPI export). */
  background: boolean;
}

/**
 * The /v1 API with its safety: API keys, per-caller rate limits and concurrent-job quotas,
 * webhooks and batches. Registers the auth hook first so it runs before any /v1 body is read.
 */
export async function registerPublicApi(app: FastifyInstance<any, any, any, any>, d: PublicApiDeps): Promise<{ webhooks: WebhookDispatcher; close(): Promise<void> }> {
  const { cfg } = d;
  const keys = new ApiKeyStore(d.redis, cfg.apiKeyPepper);
  const limiter = new RateLimiter(d.redis);
  const quota = new JobQuota(d.redis, `${d.queue.qualifiedName}:`);
  const admit = admission(quota);
  const policy = callbackPolicy(cfg.mode);
  const webhooks = new WebhookDispatcher({
    redis: d.redis,
    connection: d.connection,
    service: d.service,
    events: d.events,
    logger: d.logger,
    secret: cfg.webhookSigningSecret,
    policy,
    maxAttempts: cfg.webhookMaxAttempts,
    backoffMs: cfg.webhookBackoffMs,
    timeoutMs: cfg.webhookTimeoutMs,
  });
  if (d.background) {
    if (cfg.webhookSecretIsDefault) d.logger.warn('WEBHOOK_SIGNING_SECRET is not set: webhooks are signed with the fixed development secret');
    if (cfg.allowAnonymous && cfg.mode === 'production') d.logger.warn('ALLOW_ANONYMOUS=true in production: callers without a key are limited per IP only');
    webhooks.start();
  }

  app.addSchema(batchSchema);
  await app.register(authPlugin, {
    keys,
    limiter,
    allowAnonymous: cfg.allowAnonymous,
    rateLimitPerMinute: cfg.rateLimitPerMinute,
    maxConcurrentJobs: cfg.maxConcurrentJobsPerKey,
  });
  await app.register(analysesRoutes, {
    service: d.service,
    maxUploadBytes: cfg.maxUploadBytes,
    maxWaitSeconds: cfg.maxWaitSeconds,
    identify: async (req) => req.principal?.keyId,
    validateCallback: async (url) => {
      try {
        await checkCallbackUrl(url, policy);
      } catch (err) {
        if (err instanceof CallbackForbidden) throw new ApiError(400, 'callback_url_forbidden', err.message);
        throw err;
      }
    },
    admit,
    onCallback: (view, url) => webhooks.register(view, url),
  });
  await app.register(batchRoutes, {
    service: d.service,
    store: new BatchStore(d.redis, cfg.batchTtlSeconds),
    maxUploadBytes: cfg.maxUploadBytes,
    maxFiles: cfg.batchMaxFiles,
    maxBytes: cfg.batchMaxBytes,
    admit,
  });
  return { webhooks, close: () => webhooks.close() };
}
