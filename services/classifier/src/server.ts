import { ConfigError } from '@dfd/config';
import { onShutdown } from '@dfd/telemetry';
import { loadClassifierConfig } from './config.js';
import { startClassifier } from './app.js';

try {
  const cfg = loadClassifierConfig();
  const app = await startClassifier(cfg);
  onShutdown(app.logger, cfg.shutdownGraceMs + 5_000, [() => app.close()]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
