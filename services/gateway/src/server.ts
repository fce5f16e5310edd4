import { ConfigError } from '@dfd/config';
import { onShutdown } from '@dfd/telemetry';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

try {
  const cfg = loadGatewayConfig();
  const gw = await buildGateway(cfg);
  await gw.app.listen({ port: cfg.httpPort, host: cfg.host });
  gw.logger.info({ url: `http://127.0.0.1:${cfg.httpPort}` }, 'gateway listening');
  onShutdown(gw.logger, cfg.shutdownGraceMs + 5_000, [() => gw.close()]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
