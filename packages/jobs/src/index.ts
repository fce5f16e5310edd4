export * from './types.js';
export { PixelStore } from './pixel-store.js';
export { analysisId } from './ids.js';
export { createAnalysisQueue, createQueueEvents, redisConnectionOptions, defaultJobOptions } from './queue.js';
export * from './api.js';
