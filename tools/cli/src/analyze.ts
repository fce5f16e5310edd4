import { readFile } from 'node:fs/promises';
import type { AnalysisResult } from '@dfd/jobs';
import { collectFiles, type Entry } from './files.js';
import { FatalError, FileError, describeError } from './errors.js';
import { RowWriter, type Format, type Outcome } from './output.js';
import { Progress } from './progress.js';

export interface AnalyzeOptions {
  inputs: string[];
  out?: string;
  format: Format;
  concurrency: number;
  summary: boolean;
  quiet: boolean;
  /** Creates the analyser (remote or embedded); may throw FatalError. */
  backend: (log: (msg: string) => void, onRetry: () => void) => Promise<Backend>;
  stderr?: NodeJS.WriteStream;
}

export interface Backend {
  analyse(body: Buffer): Promise<AnalysisResult>;
  close?(): Promise<void>;
}

export interface RunStats {
  files: number;
  /** real, edited, uncertain, error; `edited:deepfake`, `uncertain:retouched`, ...; `throttled` (error rows from 429s). */
  counts: Record<string, number>;
  /** 429 `rate_limited` answers the run was paced by, and how long it waited for rate-limit windows. */
  throttledAnswers?: number;
  pacedMs?: number;
}

/**
 * Walks the inputs, analyses up to `concurrency` files at once and writes rows in input order as
 * soon as they are ready. Per-file problems become error rows; only FatalError stops the run.
 */
export async function analyze(opts: AnalyzeOptions): Promise<RunStats> {
  const stderr = opts.stderr ?? process.stderr;
  const entries = await collectFiles(opts.inputs);
  const writer = await RowWriter.open(opts.out, opts.format);
  let progress: Progress | undefined;
  const log = (msg: string) => (progress ? progress.log(msg) : stderr.write(`${msg}\n`));
  let backend: Backend;
  try {
    backend = await opts.backend(log, () => progress?.retry());
  } catch (err) {
    await writer.close().catch(() => undefined);
    throw err;
  }
  progress = new Progress(entries.length, stderr, !opts.quiet, Boolean(stderr.isTTY));
  const counts: Record<string, number> = { real: 0, edited: 0, uncertain: 0, error: 0, throttled: 0 };

  const processOne = async (entry: Entry): Promise<Outcome & { throttled?: boolean }> => {
    if (entry.error) return { path: entry.path, error: entry.error };
    let body: Buffer;
    try {
      body = await readFile(entry.path);
    } catch (err) {
      return { path: entry.path, error: `unreadable: ${describeError(err)}` };
    }
    try {
      return { path: entry.path, result: await backend.analyse(body) };
    } catch (err) {
      if (err instanceof FatalError) throw err;
      if (err instanceof FileError) return { path: entry.path, error: err.message, throttled: err.throttled };
      return { path: entry.path, error: `failed: ${describeError(err)}` };
    }
  };

  const slots: Array<Outcome | undefined> = new Array(entries.length);
  let next = 0;
  let written = 0;
  let fatal: unknown;
  const flush = () => {
    while (written < entries.length && slots[written]) {
      const o = slots[written]!;
      writer.write(o);
      slots[written] = undefined;
      written += 1;
    }
  };
  const worker = async () => {
    while (fatal === undefined && next < entries.length) {
      const i = next++;
      let o: Outcome & { throttled?: boolean };
      try {
        o = await processOne(entries[i]!);
      } catch (err) {
        fatal = err;
        return;
      }
      if (o.result) {
        counts[o.result.verdict] = (counts[o.result.verdict] ?? 0) + 1;
        if (o.result.edit_type) counts[`${o.result.verdict}:${o.result.edit_type}`] = (counts[`${o.result.verdict}:${o.result.edit_type}`] ?? 0) + 1;
      } else {
        counts.error = (counts.error ?? 0) + 1;
        if (o.throttled) counts.throttled = (counts.throttled ?? 0) + 1;
      }
      slots[i] = o;
      progress!.tick(!o.error);
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, entries.length)) }, worker));
  } finally {
    progress.finish();
    await writer.close();
    await backend.close?.().catch(() => undefined);
  }
  if (fatal !== undefined) throw fatal;
  const paced = backend as Backend & { throttled?: number; pacer?: { waitedMs: number } };
  return { files: entries.length, counts, throttledAnswers: paced.throttled, pacedMs: paced.pacer?.waitedMs };
}

/**
 * Counts per verdict. Each file is in exactly one of real / edited / uncertain / error, and those
 * four add up to the total; the edit type is shown inside edited (and uncertain) with its own sum.
 */
export function formatSummary(stats: RunStats): string {
  const c = stats.counts;
  const n = (k: string) => c[k] ?? 0;
  const split = (verdict: string) => {
    const d = n(`${verdict}:deepfake`);
    const r = n(`${verdict}:retouched`);
    if (!d && !r) return '';
    const rest = n(verdict) - d - r;
    return `  = ${d} deepfake + ${r} retouched${rest ? ` + ${rest} without a type` : ''}${verdict === 'uncertain' ? ' (the leaning, not a verdict)' : ''}`;
  };
  const line = (k: string, v: number, note = '') => `${k.padEnd(10)}${String(v).padStart(6)}${note}`;
  const lines = [
    line('real', n('real')),
    line('edited', n('edited'), split('edited')),
    line('uncertain', n('uncertain'), split('uncertain')),
    line('error', n('error'), n('throttled') ? `  (${n('throttled')} refused by the server's rate or queue limits: not analysed)` : ''),
    line('total', stats.files, '  = real + edited + uncertain + error'),
  ];
  if (stats.throttledAnswers) lines.push(`paced by the server's rate limit: ${stats.throttledAnswers} answer(s) 429 rate_limited, ${((stats.pacedMs ?? 0) / 1000).toFixed(1)} s waited (summed over parallel uploads)`);
  return lines.join('\n') + '\n';
}
