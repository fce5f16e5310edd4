import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '@dfd/config';
import type { Registry } from 'prom-client';
import { HEARTBEAT_BYTES, heartbeatCell, monotonicNs, type FromWorker, type OpsWorkerData, type ReadinessResult, type ToWorker } from './ops-protocol.js';

export type ReadinessCheck = () => Promise<{ ready: boolean; checks: Record<string, boolean | string> }>;

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness: ReadinessCheck;
  /** /healthz answers 503 once the main loop has not beaten for this long (a hung loop must fail liveness). */
  stallMs?: number;
  /** How often the main loop beats. */
  heartbeatMs?: number;
  /** How often the main thread runs `readiness` and hands the result to the listener. */
  readinessIntervalMs?: number;
  /** /readyz answers 503 when its latest result is older than this. */
  readinessMaxAgeMs?: number;
  /** How long a /metrics scrape waits for the main thread before the previous scrape's text is served. */
  metricsWaitMs?: number;
}

export interface OpsServer {
  /** The bound port (the one chosen by the system when `port` was 0). */
  readonly port: number;
  /** Stops the listener's thread, which releases the port and drops its connections. */
  close(): Promise<void>;
}

/**
 * The HTTP side-door of every service: /healthz (alive), /readyz (dependencies) and /metrics.
 * Under load the service's event loop can be busy for hundreds of ms at a time, and probes
 * served from it then miss their timeout; so the listener runs on a worker thread of its own
 * (ops-worker.ts) and answers from state the main thread hands it: a heartbeat in shared memory
 * for /healthz, a readiness result pushed on a timer for /readyz. /metrics is collected on the
 * main thread per scrape, because some gauges (the event-loop delay) cover "since the previous
 * scrape"; a scrape the main thread does not answer within `metricsWaitMs` gets the latest text.
 *
 * The thread never keeps the process alive. If it fails after it started listening, its error is
 * thrown on the main thread, as a failing listener there would have done.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const heartbeatMs = opts.heartbeatMs ?? 250;
  const readinessIntervalMs = opts.readinessIntervalMs ?? 1_000;
  const heartbeat = new SharedArrayBuffer(HEARTBEAT_BYTES);
  const cell = heartbeatCell(heartbeat);
  const beat = () => Atomics.store(cell, 0, monotonicNs());
  beat();
  const workerData: OpsWorkerData = {
    host: opts.host ?? '0.0.0.0',
    port: opts.port,
    heartbeat,
    heartbeatMs,
    stallMs: opts.stallMs ?? 10_000,
    readinessMaxAgeMs: opts.readinessMaxAgeMs ?? 5_000,
    // Under 100 ms, so a scrape during a busy spell still answers within a probe's budget (stale, with its age).
    metricsWaitMs: opts.metricsWaitMs ?? 90,
    metricsContentType: opts.registry.contentType,
  };
  const worker = startModuleWorker('./ops-worker', import.meta.url, { workerData });

  let closed = false;
  const post = (msg: ToWorker) => {
    if (!closed) worker.postMessage(msg);
  };
  worker.on('message', (msg: FromWorker) => {
    if (msg.type !== 'metrics') return;
    opts.registry.metrics().then(
      (text) => post({ type: 'metrics', id: msg.id, text }),
      (err: Error) => post({ type: 'metrics', id: msg.id, error: err.message }),
    );
  });

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'listening') done(() => resolve(msg.port));
        else if (msg.type === 'listen-error') done(() => reject(Object.assign(new Error(msg.message), { code: msg.code })));
      };
      const onError = (err: Error) => done(() => reject(err));
      const onExit = (code: number) => done(() => reject(new Error(`the ops listener's thread exited (${code}) before it listened`)));
      const done = (settle: () => void) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        settle();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  } catch (err) {
    closed = true;
    await worker.terminate();
    throw err;
  }
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  // A first text at once, so a scrape that meets a busy main thread never finds nothing to serve.
  void opts.registry.metrics().then((text) => post({ type: 'metrics', id: 0, text }), () => undefined);

  const heartbeatTimer = setInterval(beat, heartbeatMs);
  heartbeatTimer.unref();
  let checking = false;
  const checkReadiness = () => {
    // One check at a time: a hanging check leaves the result to age past readinessMaxAgeMs.
    if (checking || closed) return;
    checking = true;
    opts
      .readiness()
      .then(
        (r): ReadinessResult => ({ ready: r.ready, checks: r.checks }),
        (err: Error): ReadinessResult => ({ error: err.message }),
      )
      .then((r) => {
        checking = false;
        post({ type: 'readiness', snapshot: { ...r, at: monotonicNs() } });
      });
  };
  checkReadiness();
  const readinessTimer = setInterval(checkReadiness, readinessIntervalMs);
  readinessTimer.unref();

  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeatTimer);
      clearInterval(readinessTimer);
      await worker.terminate();
    },
  };
}

