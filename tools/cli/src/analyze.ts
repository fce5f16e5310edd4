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
  counts: Record<string, number>;
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
  const counts: Record<string, number> = { real: 0, edited: 0, uncertain: 0, error: 0, deepfake: 0, retouched: 0 };

  const processOne = async (entry: Entry): Promise<Outcome> => {
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
      if (err instanceof FileError) return { path: entry.path, error: err.message };
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
      let o: Outcome;
      try {
        o = await processOne(entries[i]!);
      } catch (err) {
        fatal = err;
        return;
      }
      if (o.result) {
        counts[o.result.verdict] = (counts[o.result.verdict] ?? 0) + 1;
        if (o.result.edit_type) counts[o.result.edit_type] = (counts[o.result.edit_type] ?? 0) + 1;
      } else counts.error = (counts.error ?? 0) + 1;
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
  return { files: entries.length, counts };
}

export function formatSummary(stats: RunStats): string {
  const c = stats.counts;
  const lines = [
    ['edited', c.edited ?? 0],
    ['  deepfake', c.deepfake ?? 0],
    ['  retouched', c.retouched ?? 0],
    ['uncertain', c.uncertain ?? 0],
    ['real', c.real ?? 0],
    ['error', c.error ?? 0],
    ['total', stats.files],
  ] as const;
  return lines.map(([k, v]) => `${k.padEnd(12)}${String(v).padStart(6)}`).join('\n') + '\n';
}
