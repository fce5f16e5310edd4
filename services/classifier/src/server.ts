import { runService } from '@dfd/telemetry';
import { loadClassifierConfig } from './config.js';
import { startClassifier } from './app.js';

await runService(() => loadClassifierConfig(), startClassifier);
