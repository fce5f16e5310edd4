import { runService } from '@dfd/telemetry';
import { loadDetectorConfig } from './config.js';
import { startDetector } from './app.js';

await runService(() => loadDetectorConfig(), startDetector);
