import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { prom, latencyBuckets, queueDepthGauge, type prom as PromNs } from '@dfd/telemetry';

interface OpsOptions {
  registry: PromNs.Registry;
  redis: Redis;
  queue: Queue;
}

/** /healthz, /readyz, /metrics and the request-duration histogram. */
export const opsPlugin = fp(async (app: FastifyInstance, opts: OpsOptions) => {
  const duration = new prom.Histogram({
    name: 'dfd_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status_code'],
    buckets: latencyBuckets,
    registers: [opts.registry],
  });
  queueDepthGauge(opts.registry, opts.queue);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    duration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const hide = { hide: true } as const;
  app.get('/healthz', { schema: { ...hide, response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    {
      schema: {
        ...hide,
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: true } } },
          503: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: true } } },
        },
      },
    },
    async (_req, reply) => {
      const redisOk = opts.redis.status === 'ready' && (await opts.redis.ping().then(() => true, () => false));
      reply.status(redisOk ? 200 : 503);
      return { status: redisOk ? 'ready' : 'not_ready', checks: { redis: redisOk } };
    },
  );
  app.get('/metrics', { schema: hide }, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
});
