import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Queue } from 'bullmq';
import { prom, latencyBuckets, queueDepthGauge, type prom as PromNs, type ReadinessCheck } from '@dfd/telemetry';

interface OpsOptions {
  registry: PromNs.Registry;
  queue: Queue;
  readiness: ReadinessCheck;
}

/**
 * The request-duration histogram and the queue gauge, plus /healthz and /readyz on the public
 * port for load balancers that can only probe it. /metrics is served on the ops port only
 * (server.ts, OPS_PORT), which the Ingress does not expose.
 */
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
  const state = { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: true } } } as const;
  app.get('/healthz', { schema: { ...hide, response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { ...hide, response: { 200: state, 503: state } } }, async (_req, reply) => {
    const r = await opts.readiness();
    reply.status(r.ready ? 200 : 503);
    return { status: r.ready ? 'ready' : 'not_ready', checks: r.checks };
  });
}, { name: 'dfd-ops' });
