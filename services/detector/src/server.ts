import { ConfigError } from '@dfd/config';
import { onShutdown } from '@dfd/telemetry';
import { loadDetectorConfig } from './config.js';
import { startDetector } from './app.js';

try {
  const cfg = loadDetectorConfig();
  const app = await startDetector(cfg);
  onShutdown(app.logger, cfg.shutdownGraceMs + 5_000, [() => app.close()]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
