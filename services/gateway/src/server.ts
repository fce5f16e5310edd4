import type { Server, Socket } from 'node:net';
import { ConfigError } from '@dfd/config';
import { fileDescriptors, onShutdown, startOpsServer, type Logger } from '@dfd/telemetry';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

/**
 * At the connection cap (app.ts: MAX_CONNECTIONS, else the descriptor soft limit less 256), new
 * connections get a fast 429 (Retry-After: 1) and are closed, instead of Node's silent drop at
 * `maxConnections` (clients see ECONNRESET) or EMFILE past the descriptor limit. Node's hard
 * drop moves up by half the descriptors left above the cap, which those short-lived refusals use.
 */
function shedConnectionsNearCap(server: Server, logger: Logger): void {
  const limit = server.maxConnections;
  if (!Number.isFinite(limit) || limit <= 0) return;
  const fdMax = fileDescriptors().max;
  server.maxConnections = limit + (fdMax > limit ? Math.max(16, Math.floor((fdMax - limit) / 2)) : Math.max(16, Math.ceil(limit / 10)));
  const body = JSON.stringify({ error: { code: 'too_many_connections', message: `The server is at its connection limit (${limit}); retry in 1 s.` } });
  const reply = `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`;
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  let open = 0;
  let shed = 0;
  let lastLog = 0;
  server.on('connection', (socket: Socket) => {
    if (open < limit) {
      open++;
      socket.once('close', () => open--);
      for (const listener of listeners) listener.call(server, socket);
      return;
    }
    shed++;
    socket.on('error', () => undefined);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.resume(); // read and drop the request, so closing does not reset the connection
    socket.end(reply);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      logger.warn({ open, limit, shed }, 'connection limit reached; answering 429');
    }
  });
}

try {
  const cfg = loadGatewayConfig();
  const gw = await buildGateway(cfg);
  shedConnectionsNearCap(gw.app.server, gw.logger);
  // Health and metrics on their own listener: they answer even when the API port is at its
  // connection cap or the event loop is saturated, and /metrics is not reachable through the Ingress.
  const ops = await startOpsServer({ port: cfg.opsPort, host: cfg.host, registry: gw.registry, readiness: gw.readiness });
  const opsPort = ops.port;
  await gw.app.listen({ port: cfg.httpPort, host: cfg.host, backlog: cfg.listenBacklog });
  gw.logger.info({ url: `http://127.0.0.1:${cfg.httpPort}`, opsPort, hardMaxConnections: gw.app.server.maxConnections, backlog: cfg.listenBacklog }, 'gateway listening');
  onShutdown(gw.logger, cfg.shutdownGraceMs + 5_000, [() => gw.close(), () => ops.close()]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
