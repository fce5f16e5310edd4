export { EnvReader, ConfigError } from './env.js';
export { readCommon, readOrtThreads, repoRoot, type CommonConfig, type AppMode } from './common.js';
export { startModuleWorker } from './worker-thread.js';
