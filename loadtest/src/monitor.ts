/** Samples RSS, peak RSS and open descriptors of each stack process while a load runs. */
import { cpuSeconds, memoryOf, openFds, scrapeOpenFds } from './stats.js';
import type { Service } from './stack.js';

export interface ProcessSample {
  t: number;
  rssMiB: number;
  fds: number;
}

export interface ProcessReport {
  name: string;
  pid: number;
  alive: boolean;
  peakRssMiB: number;
  maxFds: number;
  /** Highest dfd_open_fds read from the service's /metrics (redis has none). */
  maxMetricFds: number | undefined;
  /** CPU seconds used while monitored (user + system). */
  cpuS: number;
  cpuStart: number;
  samples: ProcessSample[];
}

export class Monitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly reports = new Map<string, ProcessReport>();
  private readonly t0 = Date.now();
  private scraping = false;

  constructor(private readonly services: Service[], private readonly everyMs = 1_000) {
    for (const s of services) this.reports.set(s.name, { name: s.name, pid: s.pid, alive: true, peakRssMiB: 0, maxFds: 0, maxMetricFds: undefined, cpuS: 0, cpuStart: cpuSeconds(s.pid), samples: [] });
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  private sample(): void {
    const t = (Date.now() - this.t0) / 1000;
    for (const s of this.services) {
      const r = this.reports.get(s.name)!;
      const mem = memoryOf(s.pid);
      r.alive = s.proc.alive;
      if (!mem) continue;
      const fds = openFds(s.pid);
      r.peakRssMiB = Math.max(r.peakRssMiB, mem.hwmMiB, mem.rssMiB);
      r.maxFds = Math.max(r.maxFds, fds);
      r.cpuS = cpuSeconds(s.pid) - r.cpuStart;
      r.samples.push({ t, rssMiB: mem.rssMiB, fds });
    }
    if (this.scraping) return;
    this.scraping = true;
    void Promise.all(
      this.services.filter((s) => s.kind !== 'redis').map(async (s) => {
        const n = await scrapeOpenFds(`http://127.0.0.1:${s.opsPort ?? s.httpPort}/metrics`);
        const r = this.reports.get(s.name)!;
        if (n !== undefined) r.maxMetricFds = Math.max(r.maxMetricFds ?? 0, n);
      }),
    ).finally(() => (this.scraping = false));
  }

  stop(): ProcessReport[] {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return [...this.reports.values()];
  }
}

/** A row per process: peak RSS, RSS now, descriptors. */
export function formatProcesses(reports: ProcessReport[]): string {
  const rows = reports.map((r) => {
    const last = r.samples.at(-1);
    return `  ${r.name.padEnd(13)} pid ${String(r.pid).padEnd(7)} ${r.alive ? 'alive' : 'DEAD '}  peak RSS ${r.peakRssMiB.toFixed(0).padStart(5)} MiB  RSS now ${(last?.rssMiB ?? 0).toFixed(0).padStart(5)} MiB  fds max ${String(r.maxFds).padStart(5)} (/metrics ${r.maxMetricFds ?? '-'})  CPU ${r.cpuS.toFixed(1)} s`;
  });
  return rows.join('\n');
}

/** RSS over time of each process, `points` samples evenly spread. */
export function formatRssSeries(reports: ProcessReport[], points = 8): string {
  return reports
    .map((r) => {
      const step = Math.max(1, Math.floor(r.samples.length / points));
      const picked = r.samples.filter((_, i) => i % step === 0 || i === r.samples.length - 1);
      return `  ${r.name.padEnd(13)} ${picked.map((s) => `${s.t.toFixed(0)}s:${s.rssMiB.toFixed(0)}`).join('  ')} (MiB)`;
    })
    .join('\n');
}
