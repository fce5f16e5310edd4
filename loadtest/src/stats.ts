import { readdirSync, readFileSync } from 'node:fs';

/** Nearest-rank percentile of unsorted values (0 when empty). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarise(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: percentile(values, 100) };
}

/** VmRSS and VmHWM (peak RSS) of a process in MiB, from /proc (Linux). */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** dfd_open_fds from a service's /metrics (undefined when it does not answer). */
export async function scrapeOpenFds(metricsUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const m = /^dfd_open_fds(?:\{[^}]*\})? (\d+(?:\.\d+)?)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const mib = (n: number) => `${n.toFixed(0)} MiB`;
export const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/**
 * User+system CPU seconds in the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file
 * (utime and stime, in clock ticks of 1/100 s; the fields after the parenthesised name).
 */
export function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** User+system CPU seconds a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** Kernel TCP counters (ListenOverflows, ListenDrops, TCPSynRetrans) from /proc/net/netstat. */
export function tcpCounters(): Record<string, number> {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const keys = lines[i]!.split(/\s+/);
      const vals = lines[i + 1]!.split(/\s+/);
      if (keys[0] !== 'TcpExt:') continue;
      keys.forEach((k, j) => {
        if (['ListenOverflows', 'ListenDrops', 'TCPSynRetrans'].includes(k)) out[k] = Number(vals[j]);
      });
    }
    return out;
  } catch {
    return {};
  }
}
