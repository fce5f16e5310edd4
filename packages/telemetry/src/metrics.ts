import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';

export { client as prom };

/** Open and maximum file descriptors of this process, from /proc (Linux only; 0 elsewhere). */
export function fileDescriptors(): { open: number; max: number } {
  try {
    const open = readdirSync('/proc/self/fd').length;
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.split(/\s{2,}/)[1]) : 0;
    return { open, max: Number.isFinite(soft) ? soft : 0 };
  } catch {
    return { open: 0, max: 0 };
  }
}

/** A registry with Node's default metrics plus descriptor gauges, labelled with the service. */
export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  new client.Gauge({
    name: 'dfd_open_fds',
    help: 'Open file descriptors of the process',
    registers: [registry],
    collect() {
      this.set(fileDescriptors().open);
    },
  });
  new client.Gauge({
    name: 'dfd_max_fds',
    help: 'Soft limit on file descriptors of the process',
    registers: [registry],
    collect() {
      this.set(fileDescriptors().max);
    },
  });
  ortUsageMetrics(registry);
  // Event-loop delay since the last scrape (perf_hooks.monitorEventLoopDelay, 10 ms resolution):
  // the figure that says whether one request is stalling every other one.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new client.Gauge({
    name: 'dfd_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape (monitorEventLoopDelay), by quantile',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
      this.set({ quantile: '0.5' }, s(loop.percentile(50)));
      this.set({ quantile: '0.99' }, s(loop.percentile(99)));
      this.set({ quantile: '1' }, s(loop.max));
      loop.reset();
    },
  });
  return registry;
}

interface OrtUsage {
  runs: Map<string, number>;
  seconds: number;
}

/**
 * onnxruntime sessions' runs per model and input shape, and wall time inside `run`, as counted by
 * @dfd/model-runtime's createSession on a process-wide symbol (empty in processes without models).
 */
function ortUsageMetrics(registry: client.Registry): void {
  const usage = () => (globalThis as unknown as Record<symbol, Map<string, OrtUsage> | undefined>)[Symbol.for('dfd.ort.usage')] ?? new Map<string, OrtUsage>();
  const reported = new Map<string, number>();
  const bump = (c: client.Counter<string>, name: string, labels: Record<string, string>, total: number) => {
    const key = `${name}|${JSON.stringify(labels)}`;
    const delta = total - (reported.get(key) ?? 0);
    if (delta > 0) c.inc(labels, delta);
    reported.set(key, total);
  };
  new client.Counter({
    name: 'dfd_ort_runs_total',
    help: 'onnxruntime session runs by model and input shape',
    labelNames: ['model', 'shape'],
    registers: [registry],
    collect() {
      for (const [model, u] of usage()) for (const [shape, n] of u.runs) bump(this, 'runs', { model, shape }, n);
    },
  });
  new client.Counter({
    name: 'dfd_ort_run_seconds_total',
    help: 'Wall time inside onnxruntime session runs (includes waiting for a CPU and for other runs of this process)',
    labelNames: ['model'],
    registers: [registry],
    collect() {
      for (const [model, u] of usage()) bump(this, 'seconds', { model }, u.seconds);
    },
  });
}

export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Anything that can count its jobs by state (a BullMQ Queue). */
export interface JobCounter {
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

/** `dfd_queue_jobs{state}`: the analysis queue's depth by state, read from Redis at scrape time. */
export function queueDepthGauge(registry: client.Registry, queue: JobCounter): client.Gauge {
  return new client.Gauge({
    name: 'dfd_queue_jobs',
    help: 'Jobs in the analysis queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed').catch(() => ({}) as Record<string, number>);
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
}
