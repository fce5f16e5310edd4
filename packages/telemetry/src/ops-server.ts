import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<{ ready: boolean; checks: Record<string, boolean | string> }>;

/**
 * The small HTTP side-door of the non-HTTP services: /healthz (alive), /readyz (dependencies)
 * and /metrics. The gateway serves the same paths from Fastify instead.
 */
export async function startOpsServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  readiness: ReadinessCheck;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/healthz') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      opts
        .readiness()
        .then((r) => send(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks })))
        .catch((err: Error) => send(503, JSON.stringify({ status: 'not_ready', error: err.message })));
      return;
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((m) => send(200, m, opts.registry.contentType))
        .catch((err: Error) => send(500, err.message, 'text/plain'));
      return;
    }
    send(404, JSON.stringify({ error: { code: 'not_found', message: 'no such path' } }));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}
