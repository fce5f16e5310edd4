import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { heartbeatCell, monotonicNs, msSince, type FromWorker, type OpsWorkerData, type ReadinessSnapshot, type ToWorker } from './ops-protocol.js';

/**
 * The ops listener's own thread (see ops-server.ts). It answers from what it already holds (the
 * heartbeat, the latest readiness result), so a saturated or hung main loop cannot delay it; only
 * /metrics asks the main thread, and waits for it no longer than `metricsWaitMs`.
 */
const data = workerData as OpsWorkerData;
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);
const beat = heartbeatCell(data.heartbeat);

let readiness: ReadinessSnapshot | undefined;
/** The main thread's latest /metrics text, for scrapes it does not answer in time. */
let lastMetrics: { text: string; at: bigint } | undefined;
const metricsWaiting = new Map<number, (reply: ToWorker & { type: 'metrics' }) => void>();
let nextMetricsId = 1;

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'readiness') {
    readiness = msg.snapshot;
    return;
  }
  // A late answer still refreshes the fallback, even if its scrape has been answered.
  if ('text' in msg) lastMetrics = { text: msg.text, at: monotonicNs() };
  metricsWaiting.get(msg.id)?.(msg);
  metricsWaiting.delete(msg.id);
});

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function healthz(res: ServerResponse): void {
  const sinceBeat = msSince(Atomics.load(beat, 0));
  // How far the next beat is overdue: 0 while the main loop keeps its timer.
  const lag = Math.max(0, Math.round(sinceBeat - data.heartbeatMs));
  if (sinceBeat > data.stallMs) send(res, 503, { status: 'stalled', event_loop_lag_ms: lag });
  else send(res, 200, { status: 'ok', event_loop_lag_ms: lag });
}

function readyz(res: ServerResponse): void {
  const r = readiness;
  if (!r) return send(res, 503, { status: 'not_ready', checks: {}, reason: 'no readiness result yet' });
  const age = msSince(r.at);
  if (age > data.readinessMaxAgeMs) {
    const reason = `the latest readiness result is ${Math.round(age)} ms old (limit ${data.readinessMaxAgeMs} ms): a check hangs or the main thread is busy`;
    return send(res, 503, { status: 'not_ready', checks: {}, reason });
  }
  if ('error' in r) return send(res, 503, { status: 'not_ready', error: r.error });
  send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
}

function metrics(res: ServerResponse): void {
  const id = nextMetricsId++;
  const timer = setTimeout(() => {
    metricsWaiting.delete(id);
    if (!lastMetrics) return send(res, 503, `the main thread did not answer within ${data.metricsWaitMs} ms and no earlier metrics are held\n`, 'text/plain');
    send(res, 200, lastMetrics.text, data.metricsContentType, { 'x-metrics-age-ms': String(Math.round(msSince(lastMetrics.at))) });
  }, data.metricsWaitMs);
  metricsWaiting.set(id, (reply) => {
    clearTimeout(timer);
    if ('error' in reply) send(res, 500, reply.error, 'text/plain');
    else send(res, 200, reply.text, data.metricsContentType);
  });
  post({ type: 'metrics', id });
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return healthz(res);
  if (path === '/readyz') return readyz(res);
  if (path === '/metrics') return metrics(res);
  send(res, 404, { error: { code: 'not_found', message: 'no such path' } });
});
server.keepAliveTimeout = 5_000;
server.once('error', (err: NodeJS.ErrnoException) => post({ type: 'listen-error', message: err.message, code: err.code }));
server.listen(data.port, data.host, () => post({ type: 'listening', port: (server.address() as AddressInfo).port }));
