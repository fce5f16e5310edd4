/** A problem with one file: it becomes an `error` row and the run goes on. */
export class FileError extends Error {
  override name = 'FileError';
  /** The server kept refusing with 429 (rate or queue limits) until retries or time ran out. */
  throttled = false;
  constructor(message: string, opts: { throttled?: boolean } = {}) {
    super(message);
    this.throttled = opts.throttled ?? false;
  }
}

/** The run cannot go on (gateway unreachable, models missing, key refused): exit code 1. */
export class FatalError extends Error {
  override name = 'FatalError';
}

/** Bad command line: exit code 2 with the usage text. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The most telling part of a fetch/undici/system error: its code when it has one. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  const code = e?.cause?.code ?? e?.code;
  const msg = e?.cause?.message ?? e?.message ?? String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
