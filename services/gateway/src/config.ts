import { EnvReader, readCommon, type CommonConfig } from '@dfd/config';

export interface GatewayConfig extends CommonConfig {
  httpPort: number;
  host: string;
  maxUploadBytes: number;
  maxPixels: number;
  workingSize: number;
  queueMaxWaiting: number;
  maxWaitSeconds: number;
  pixelTtlSeconds: number;
  maxConnections: number;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  corsOrigins: string[];
  trustProxy: boolean;
  shutdownGraceMs: number;
}

export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  const env = new EnvReader(source);
  const cfg: GatewayConfig = {
    ...readCommon(env, 'gateway'),
    httpPort: env.int('HTTP_PORT', 8080, { min: 0, max: 65535 }),
    host: env.string('HOST', '0.0.0.0'),
    maxUploadBytes: env.int('MAX_UPLOAD_BYTES', 20 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }),
    maxPixels: env.int('MAX_PIXELS', 50_000_000, { min: 1, max: 1_000_000_000 }),
    workingSize: env.int('WORKING_SIZE', 512, { min: 64, max: 4096 }),
    queueMaxWaiting: env.int('QUEUE_MAX_WAITING', 2_000, { min: 1 }),
    maxWaitSeconds: env.int('MAX_WAIT_SECONDS', 30, { min: 0, max: 120 }),
    pixelTtlSeconds: env.int('PIXEL_TTL_SECONDS', 3_600, { min: 60 }),
    maxConnections: env.int('MAX_CONNECTIONS', 0, { min: 0 }),
    keepAliveTimeoutMs: env.int('KEEP_ALIVE_TIMEOUT_MS', 5_000, { min: 0 }),
    requestTimeoutMs: env.int('REQUEST_TIMEOUT_MS', 60_000, { min: 1_000 }),
    corsOrigins: env.list('CORS_ORIGINS', []),
    trustProxy: env.bool('TRUST_PROXY', false),
    shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  };
  env.done();
  return cfg;
}
