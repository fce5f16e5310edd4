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

export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
