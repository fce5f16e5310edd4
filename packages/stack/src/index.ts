export { repoRoot, freePort, sleep, waitFor, httpReady, redisPing, ManagedProcess, RedisServer, startRedis, startService, type LineSink, type RedisOptions, type ServiceHandle, type ServiceName, type ServiceOptions } from './processes.js';
export { portFree, portHolder, assertPortsFree, PortBusyError, type PortHolder } from './ports.js';
export { devLogFormatter } from './logs.js';
export { launchStack, type Stack, type StackOptions } from './stack.js';
export { watchAncestors } from './ancestors.js';
