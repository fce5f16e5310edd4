import type { FastifyInstance } from 'fastify';
import type { ConnectionOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@dfd/telemetry';
import type { AnalysisService } from './analysis-service.js';
import { ApiKeyStore } from './auth/api-keys.js';
import { authPlugin } from './auth/auth-plugin.js';
import { BatchStore } from './batch-store.js';
import type { GatewayConfig } from './config.js';
import { jobQuotaPlugin } from './limits/quota-plugin.js';
import { JobQuota, RateLimiter } from './limits/rate-limiter.js';
import { analysesRoutes } from './routes/analyses.js';
import { batchRoutes } from './routes/batches.js';
import { callbackUrlPlugin } from './webhooks/callback-plugin.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { callbackPolicy } from './webhooks/ssrf.js';

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
 * webhooks and batches. The checks are route hooks, registered before the routes in the order they
 * run: auth and the rate limit (onRequest, before any /v1 body is read), then the callback URL
 * policy and the concurrent-job slots (preHandler, after the query is validated).
 */
export async function registerPublicApi(app: FastifyInstance<any, any, any, any>, d: PublicApiDeps): Promise<{ webhooks: WebhookDispatcher; close(): Promise<void> }> {
  const { cfg } = d;
  const keys = new ApiKeyStore(d.redis, cfg.apiKeyPepper);
  const limiter = new RateLimiter(d.redis);
  const quota = new JobQuota(d.redis, `${d.queue.qualifiedName}:`);
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

  await app.register(authPlugin, {
    keys,
    limiter,
    allowAnonymous: cfg.allowAnonymous,
    rateLimitPerMinute: cfg.rateLimitPerMinute,
    maxConcurrentJobs: cfg.maxConcurrentJobsPerKey,
  });
  await app.register(callbackUrlPlugin, { policy });
  await app.register(jobQuotaPlugin, { quota });
  await app.register(analysesRoutes, {
    service: d.service,
    maxUploadBytes: cfg.maxUploadBytes,
    maxWaitSeconds: cfg.maxWaitSeconds,
    webhooks,
  });
  await app.register(batchRoutes, {
    service: d.service,
    store: new BatchStore(d.redis, cfg.batchTtlSeconds),
    maxUploadBytes: cfg.maxUploadBytes,
    maxFiles: cfg.batchMaxFiles,
    maxBytes: cfg.batchMaxBytes,
  });
  return { webhooks, close: () => webhooks.close() };
}
