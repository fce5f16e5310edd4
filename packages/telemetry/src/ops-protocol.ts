/**
 * What the service's main thread (ops-server.ts) and the ops listener's thread (ops-worker.ts)
 * share: the heartbeat cell, the clock both read it with, and the messages between them.
 */

/**
 * Nanoseconds on the process-wide monotonic clock. Both threads must read the same clock, and
 * performance.now() starts at each thread's own origin; Date.now() jumps with the wall clock.
 */
export const monotonicNs = (): bigint => process.hrtime.bigint();

export const msSince = (ns: bigint): number => Number(monotonicNs() - ns) / 1e6;

/** The one cell of the heartbeat buffer: monotonicNs() of the main thread's latest beat. */
export const heartbeatCell = (buffer: SharedArrayBuffer): BigInt64Array => new BigInt64Array(buffer, 0, 1);
export const HEARTBEAT_BYTES = BigInt64Array.BYTES_PER_ELEMENT;

export interface OpsWorkerData {
  host: string;
  port: number;
  heartbeat: SharedArrayBuffer;
  heartbeatMs: number;
  stallMs: number;
  readinessMaxAgeMs: number;
  metricsWaitMs: number;
  metricsContentType: string;
}

export type ReadinessResult = { ready: boolean; checks: Record<string, boolean | string> } | { error: string };

/** A readiness result, stamped with monotonicNs() when it was known. */
export type ReadinessSnapshot = ReadinessResult & { at: bigint };

export type ToWorker = { type: 'readiness'; snapshot: ReadinessSnapshot } | { type: 'metrics'; id: number; text: string } | { type: 'metrics'; id: number; error: string };

export type FromWorker = { type: 'listening'; port: number } | { type: 'listen-error'; message: string; code?: string } | { type: 'metrics'; id: number };
