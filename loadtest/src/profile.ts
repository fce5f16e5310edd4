/**
 * Where a service's CPU goes, for `npm run bench` (issue 12: "the profile that shows where the
 * time went"), two ways:
 * - per thread, always: CPU seconds of each thread from /proc/<pid>/task/<tid>/stat, grouped by
 *   thread name: the JS main thread (onnxruntime-node's run() executes on it with one intra-op
 *   thread), the threads Node names "node" (libuv's pool, where sharp decodes, and V8's GC and
 *   compiler helpers) and sharp's "libvips worker" threads.
 * - inside the JS main thread, with `--cpu-prof DIR`: the V8 CPU profile each service writes at
 *   exit (node --cpu-prof), summed by self time per package and per function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { statCpuSeconds } from './stats.js';

/** CPU seconds per thread name ("main" for the thread whose id is the pid). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : threadGroup(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      out.set(name, (out.get(name) ?? 0) + statCpuSeconds(stat));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Thread names without their ordinal ("libuv-worker", "V8 DefaultWorke", "vips-3" → "vips"). */
export function threadGroup(comm: string): string {
  return comm.replace(/[-_ ]?\d+$/, '').trim() || comm;
}

export function threadDelta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) out.set(k, Math.max(0, v - (before.get(k) ?? 0)));
  return out;
}

/** One line per process: CPU ms per verdict in each thread group, largest first. */
export function formatThreads(name: string, delta: Map<string, number>, verdicts: number): string {
  const total = [...delta.values()].reduce((s, v) => s + v, 0);
  const parts = [...delta.entries()]
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${((v * 1000) / verdicts).toFixed(2)} (${((100 * v) / Math.max(total, 1e-9)).toFixed(0)}%)`);
  return `  ${name.padEnd(13)} ${((total * 1000) / verdicts).toFixed(2).padStart(7)} ms/verdict: ${parts.join(', ') || '-'}`;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled main-thread time, idle excluded (ms). */
  busyMs: number;
  idleMs: number;
  byPackage: Array<[string, number]>;
  byFunction: Array<[string, number]>;
}

/**
 * Which code a frame belongs to: a package in node_modules, a workspace package or service, Node's
 * own internals, or V8's pseudo-frames ((garbage collector), (program) = native code outside JS).
 */
export function codeOwner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return basename(url);
}

/** Sums a V8 CPU profile's samples by self time per owner and per function. */
export function summariseCpuProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const pkg = new Map<string, number>();
  const fn = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node || ms <= 0) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += ms;
      return;
    }
    busy += ms;
    const owner = codeOwner(url, functionName);
    pkg.set(owner, (pkg.get(owner) ?? 0) + ms);
    const label = url ? `${functionName || '(anonymous)'} ${owner}:${lineNumber + 1}` : functionName || '(anonymous)';
    fn.set(label, (fn.get(label) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { busyMs: busy, idleMs: idle, byPackage: sorted(pkg), byFunction: sorted(fn) };
}

/** The profiles node --cpu-prof wrote in `dir`, by the pid in their file names. */
export function profilesByPid(dir: string): Map<number, CpuProfile> {
  const out = new Map<number, CpuProfile>();
  for (const f of readdirSync(dir)) {
    const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f);
    if (m) out.set(Number(m[1]), JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as CpuProfile);
  }
  return out;
}

export function formatProfile(name: string, s: ProfileSummary, verdicts: number): string {
  const per = (ms: number) => `${(ms / verdicts).toFixed(2)} ms`;
  const pct = (ms: number) => `${((100 * ms) / Math.max(s.busyMs, 1e-9)).toFixed(1)}%`;
  const lines = [`  ${name}: main thread busy ${per(s.busyMs)}/verdict over its whole life (idle ${(s.idleMs / 1000).toFixed(0)} s)`];
  lines.push('    by code:     ' + s.byPackage.map(([k, v]) => `${k} ${pct(v)}`).join(', '));
  for (const [k, v] of s.byFunction) lines.push(`    ${pct(v).padStart(6)}  ${per(v).padStart(9)}  ${k}`);
  return lines.join('\n');
}
