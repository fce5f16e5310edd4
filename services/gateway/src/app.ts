import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Redis } from 'ioredis';
import type { Queue, QueueEvents } from 'bullmq';
import { createAnalysisQueue, createQueueEvents, PixelStore, redisConnectionOptions } from '@dfd/jobs';
import { createLogger, createRegistry, fileDescriptors, type Logger, type prom, type ReadinessCheck } from '@dfd/telemetry';
import { AnalysisService } from './analysis-service.js';
import type { GatewayConfig } from './config.js';
import { clientErrorHandler, errorsPlugin, frameworkErrors } from './plugins/errors.js';
import { admissionPlugin } from './plugins/admission.js';
import { opsPlugin } from './plugins/ops.js';
import { webPlugin } from './plugins/web.js';
import { registerPublicApi } from './public-api.js';
import { RedisHealth } from './redis-health.js';
import { sharedSchemas, type TypeProvider } from './schemas.js';

export interface Gateway {
  app: FastifyInstance<any, any, any, any>;
  redis: Redis;
  queue: Queue;
  events: QueueEvents;
  service: AnalysisService;
  logger: Logger;
  /** Metrics of this replica, served on the ops port (server.ts), never on the API port. */
  registry: prom.Registry;
  /** Redis reachable and not full. */
  readiness: ReadinessCheck;
  redisHealth: RedisHealth;
  /**
   * Resolves once every Redis connection of this gateway is made, BullMQ's own set-up commands
   * included. Closing a connection still being made left BullMQ's set-up to be rejected after the
   * close, an unhandled rejection; the OpenAPI export and the tests wait for this first.
   */
  connected(): Promise<void>;
  close(): Promise<void>;
}

export const openapiInfo = {
  openapi: '3.0.3',
  info: {
    title: 'Image forensics API',
    description: 'Upload a photo of a face; learn whether it is real or edited and, if edited, whether it is a deepfake or retouched.',
    version: '1.0.0',
  },
  tags: [
    { name: 'analyses', description: 'Single-image analyses' },
    { name: 'batches', description: 'Many images in one request' },
  ],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key' } },
  },
} as const;

/** `background: false` builds the app without the webhook worker (e.g. for the OpenAPI export). */
export async function buildGateway(cfg: GatewayConfig, opts: { background?: boolean } = {}): Promise<Gateway> {
  const logger = createLogger('gateway', cfg.logLevel);
  // Fail fast while Redis is away: the API answers 503 instead of queueing requests in memory.
  const redis = new Redis(cfg.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 200, 2_000) });
  redis.on('error', () => undefined);
  const connection = redisConnectionOptions(cfg.redisUrl);
  const queue = createAnalysisQueue(cfg.queueName, { ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 1 } as typeof connection);
  queue.on('error', () => undefined);
  const events = createQueueEvents(cfg.queueName, connection);
  events.on('error', () => undefined);
  const pixels = new PixelStore(redis, cfg.pixelTtlSeconds);
  const service = new AnalysisService(queue, events, pixels, { maxBytes: cfg.maxUploadBytes, maxPixels: cfg.maxPixels, workingSize: cfg.workingSize }, cfg.queueMaxWaiting, cfg.maxInflightDecodes);
  const registry = createRegistry('gateway');
  const redisHealth = new RedisHealth(redis, registry);
  const readiness: ReadinessCheck = () => redisHealth.readiness();

  const app = Fastify({
    loggerInstance: logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    trustProxy: cfg.trustProxy,
    bodyLimit: cfg.maxUploadBytes + 64 * 1024,
    keepAliveTimeout: cfg.keepAliveTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    connectionTimeout: cfg.requestTimeoutMs,
    maxRequestsPerSocket: 1000,
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true } },
  }).withTypeProvider<TypeProvider>();
  // Past the descriptor limit accept() fails with EMFILE; refusing connections a little earlier
  // keeps descriptors for Redis, files and in-flight work.
  const fdMax = fileDescriptors().max;
  const autoCap = fdMax > 0 ? Math.max(64, fdMax - 256) : 0;
  const cap = cfg.maxConnections > 0 ? cfg.maxConnections : autoCap;
  if (cap > 0) app.server.maxConnections = cap;
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(errorsPlugin, { onRedisFull: () => redisHealth.noteFull(), maxDrainBytes: Math.max(64 * 1024 * 1024, cfg.maxUploadBytes * 2), maxUploadBytes: cfg.maxUploadBytes });
  await app.register(helmet, {
    // The web page and the docs UI load only same-origin scripts and styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
  });
  await app.register(cors, { origin: cfg.corsOrigins.length > 0 ? cfg.corsOrigins : false, exposedHeaders: ['retry-after', 'location', 'x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'] });
  await app.register(swagger, { openapi: openapiInfo as any });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(opsPlugin, { registry, queue, readiness });
  await app.register(admissionPlugin, { cfg: cfg.admission, redis, queue, registry, maxInflightUploads: cfg.maxInflightDecodes }); // 429 overloaded by predicted wait, before auth and body
  await app.register(webPlugin); // the upload page at / (public/)
  const api = await registerPublicApi(app, { cfg, redis, connection, queue, events, service, logger, background: opts.background ?? true }); // /v1 routes, auth, limits, webhooks

  return {
    app,
    redis,
    queue,
    events,
    service,
    logger,
    registry,
    readiness,
    redisHealth,
    async connected() {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), api.webhooks.queue.waitUntilReady()]);
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    },
    async close() {
      await app.close();
      await api.close();
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
