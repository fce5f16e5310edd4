/**
 * Real processes for tests: a private redis-server and the services, on free loopback ports.
 * The process code is the stack launcher's (packages/stack), the same as `npm start` and the load
 * tools use.
 */
export {
  repoRoot,
  freePort,
  sleep,
  waitFor,
  httpReady,
  ManagedProcess,
  RedisServer,
  startRedis,
  startService,
  type ServiceHandle,
  type ServiceName,
} from '@dfd/stack';
