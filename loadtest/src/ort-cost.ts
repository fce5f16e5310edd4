/**
 * Where a verdict's CPU goes: the services count every onnxruntime run by model and input shape
 * (dfd_ort_runs_total{model,shape} on /metrics, from @dfd/model-runtime's createSession); the
 * bench scrapes those counters around its end-to-end run, then replays each (model, shape) alone
 * in its own process to learn its CPU cost. Runs per verdict x CPU per run = the CPU a verdict
 * spends inside onnxruntime, all models included (face detector, landmarks, detector, classifier
 * when called).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSession, ort } from '@dfd/model-runtime';

export interface OrtRuns {
  model: string;
  shape: string;
  runs: number;
}

export interface OrtScrape {
  runs: Map<string, OrtRuns>;
  /** Wall seconds inside run, by model. */
  seconds: Map<string, number>;
}

const LINE = /^(dfd_ort_runs_total|dfd_ort_run_seconds_total)\{([^}]*)\}\s+([0-9.eE+-]+)\s*$/;

function labels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The ORT counters in one or more Prometheus text expositions, summed over them. */
export function parseOrtMetrics(...texts: string[]): OrtScrape {
  const runs = new Map<string, OrtRuns>();
  const seconds = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = LINE.exec(line.trim());
      if (!m) continue;
      const l = labels(m[2]!);
      const v = Number(m[3]);
      if (!l.model || !Number.isFinite(v)) continue;
      if (m[1] === 'dfd_ort_runs_total') {
        const key = `${l.model}|${l.shape}`;
        const r = runs.get(key) ?? { model: l.model, shape: l.shape ?? '?', runs: 0 };
        r.runs += v;
        runs.set(key, r);
      } else seconds.set(l.model, (seconds.get(l.model) ?? 0) + v);
    }
  }
  return { runs, seconds };
}

export async function scrapeOrt(metricsUrls: string[]): Promise<OrtScrape> {
  const texts = await Promise.all(metricsUrls.map(async (u) => (await fetch(u)).text()));
  return parseOrtMetrics(...texts);
}

/** What ran between two scrapes. */
export function ortDelta(after: OrtScrape, before: OrtScrape): { runs: OrtRuns[]; seconds: Map<string, number> } {
  const runs: OrtRuns[] = [];
  for (const [key, r] of after.runs) {
    const n = r.runs - (before.runs.get(key)?.runs ?? 0);
    if (n > 0) runs.push({ ...r, runs: n });
  }
  const seconds = new Map<string, number>();
  for (const [model, s] of after.seconds) seconds.set(model, s - (before.seconds.get(model) ?? 0));
  return { runs: runs.sort((a, b) => a.model.localeCompare(b.model) || b.runs - a.runs), seconds };
}

/** models/<name>/<version>/model.onnx for a "name@version" label, .../<file> for "name@version/file". */
export function modelPath(modelsDir: string, label: string): string {
  const at = label.lastIndexOf('@');
  const [version, file] = label.slice(at + 1).split('/');
  return join(modelsDir, label.slice(0, at), version!, file ?? 'model.onnx');
}

/**
 * CPU milliseconds (this process, all threads: onnxruntime runs on the calling thread and its
 * intra-op pool) and wall milliseconds per run of one model on one input shape, with the
 * services' session options. Run it while nothing else in this process is busy.
 */
export async function cpuPerRun(path: string, shape: number[], threads: number, minSeconds = 1): Promise<{ cpuMs: number; wallMs: number; runs: number }> {
  const session = await createSession(path, threads);
  try {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.random();
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, shape) };
    for (let i = 0; i < 2; i++) await session.run(feeds);
    let runs = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (runs < 5 || performance.now() - t0 < minSeconds * 1000) {
      await session.run(feeds);
      runs++;
    }
    const wallMs = (performance.now() - t0) / runs;
    const c = process.cpuUsage(c0);
    return { cpuMs: (c.user + c.system) / 1000 / runs, wallMs, runs };
  } finally {
    await session.release();
  }
}

/**
 * Which integer kernels onnxruntime has on this CPU, from /proc/cpuinfo's flags: int8 figures mean
 * little without it. With VNNI (avx512_vnni or avx_vnni) a u8 x s8 convolution is about 2.5x
 * cheaper than float; with AVX2 alone it pairs products in 16 bits, about 1.6x cheaper, and
 * full-range weights would saturate there (the shipped ones are 7-bit: training/models/quantize.py).
 */
export function int8Kernels(cpuinfo?: string): string {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return 'int8 kernels: unknown (no /proc/cpuinfo)';
    }
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  const vnni = ['avx512_vnni', 'avx_vnni'].filter((f) => flags.has(f));
  if (vnni.length > 0) return `int8 kernels: VNNI (${vnni.join(', ')})`;
  if (flags.has('avx2')) return 'int8 kernels: AVX2 without VNNI (u8 x s8 pairs summed in 16 bits)';
  return 'int8 kernels: neither VNNI nor AVX2';
}
