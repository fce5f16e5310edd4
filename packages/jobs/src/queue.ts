import { Queue, QueueEvents, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export function redisConnectionOptions(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ workers need blocking commands to wait indefinitely.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  };
}

export function createAnalysisQueue(name: string, connection: ConnectionOptions): Queue {
  return new Queue(name, { connection, defaultJobOptions });
}

export function createQueueEvents(name: string, connection: ConnectionOptions): QueueEvents {
  return new QueueEvents(name, { connection });
}
