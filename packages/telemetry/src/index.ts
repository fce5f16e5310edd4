export { createLogger, redactUrl, type Logger } from './logger.js';
export { createRegistry, fileDescriptors, latencyBuckets, prom, queueDepthGauge, type JobCounter } from './metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions, type ReadinessCheck } from './ops-server.js';
export { onShutdown } from './shutdown.js';
export { runService, inferenceRecorder, type RunningService } from './service.js';
