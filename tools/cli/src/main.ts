#!/usr/bin/env node
/**
 * dfd: batch image-forensics from the command line.
 *   dfd analyze <files or folders...> --out results.csv
 * Exit codes: 0 the run finished (files that could not be analysed are `error` rows, not failures),
 * 1 the run could not happen (gateway unreachable, models missing, output unwritable, API key
 * refused, invalid option value), 2 usage (unknown command or option, no inputs, a path that does
 * not exist), 3 the run finished but the server's rate or queue limits left files unanalysed.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyze, formatSummary, type Backend } from './analyze.js';
import { FatalError, UsageError } from './errors.js';
import { formatFor } from './output.js';

export const defaultModelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');

export const usage = `Usage: dfd analyze <files or folders...> [options]

Analyses images (folders are walked recursively) and writes one row per image. Faces: one face
whose judgement is the image's puts its box (x,y,w,h, original-image pixels) on the image row;
several faces (or one judged differently) get a row each, path#face1... numbered left to right.

Options:
  -o, --out <file>        results file: .csv or .jsonl (default: CSV on stdout)
      --format csv|jsonl  output format when --out has another extension
      --url <url>         gateway base URL (default http://127.0.0.1:8080)
      --api-key <key>     API key, sent as Authorization: Bearer (default: env DFD_API_KEY)
  -c, --concurrency <n>   files in flight at once (default 4)
      --no-crop           do not look for faces: each image is already a face crop
      --summary           print counts per verdict at the end
      --embedded          run the models in this process (no gateway, no Redis)
      --models <dir>      models folder for --embedded (default: the repository's models/)
      --threads <n>       onnxruntime threads for --embedded (default: min(4, CPUs))
      --retries <n>       retries per request on 429 / 5xx / network errors (default 6)
      --timeout <s>       give up on one file after this many seconds (default 300)
      --wait <s>          seconds the gateway holds each request for the result (0-30, default 25)
  -q, --quiet             no progress on stderr
  -h, --help              this text

Columns: path, verdict, edit_type, score_edited, score_deepfake, score_retouched, confidence,
faces, error, x, y, w, h.

Against a gateway, uploads are paced to its RateLimit-* headers (a 429 rate_limited waits for the
next window and is not counted as a retry; the --timeout per file still bounds it).

Exit codes: 0 the run finished, even when some files have an error row (not an image, corrupt);
1 the run could not happen (gateway unreachable, models missing, output not writable, API key
refused, bad option value); 2 usage error (unknown option, a path that does not exist);
3 the run finished but some files were refused by the server's rate or queue limits (429) until
their retries or time ran out: those rows say so, re-run them.
`;

function positiveInt(name: string, raw: string | undefined, fallback: number, max = 1_000_000): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new FatalError(`--${name} must be an integer from 0 to ${max}, not "${raw}"`);
  return n;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string', short: 'o' },
        format: { type: 'string' },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        concurrency: { type: 'string', short: 'c' },
        'no-crop': { type: 'boolean' },
        summary: { type: 'boolean' },
        embedded: { type: 'boolean' },
        models: { type: 'string' },
        threads: { type: 'string' },
        retries: { type: 'string' },
        timeout: { type: 'string' },
        wait: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`dfd: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [command, ...inputs] = positionals;
  try {
    if (command !== 'analyze' && command !== 'analyse') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    if (inputs.length === 0) throw new UsageError('give at least one file or folder to analyse');
    const missing = inputs.filter((p) => {
      try {
        statSync(p);
        return false;
      } catch {
        return true;
      }
    });
    if (missing.length) throw new UsageError(`no such file or folder: ${missing.join(', ')} (relative paths are taken from ${process.cwd()})`);
  } catch (err) {
    process.stderr.write(`dfd: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }

  try {
    const format = formatFor(v.out, v.format);
    if (!format) throw new FatalError(v.format ? `--format must be csv or jsonl, not "${v.format}"` : `cannot tell the format of "${v.out}": use a .csv or .jsonl name, or --format`);
    const concurrency = positiveInt('concurrency', v.concurrency, 4, 256) || 1;
    const retries = positiveInt('retries', v.retries, 6, 100);
    const timeoutS = positiveInt('timeout', v.timeout, 300, 86_400) || 300;
    const waitS = positiveInt('wait', v.wait, 25, 30);
    const threads = positiveInt('threads', v.threads, Math.min(4, availableParallelism()), 256) || 1;
    const cropFaces = !v['no-crop'];
    const url = v.url ?? env.DFD_URL ?? 'http://127.0.0.1:8080';
    if (!v.embedded) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new FatalError(`--url "${url}" is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FatalError(`--url must be http(s), not ${u.protocol}`);
    }
    const apiKey = v['api-key'] ?? env.DFD_API_KEY ?? undefined;

    const backend = async (log: (m: string) => void, onRetry: () => void): Promise<Backend> => {
      if (v.embedded) {
        const { EmbeddedAnalyser } = await import('./embedded.js');
        const modelsDir = v.models ?? env.DFD_MODELS_DIR ?? defaultModelsDir;
        return EmbeddedAnalyser.load({ modelsDir, threads, cropFaces, onWarning: (m) => log(`dfd: warning: ${m}`) });
      }
      const { RemoteAnalyser } = await import('./remote.js');
      const remote = new RemoteAnalyser({ url, apiKey: apiKey || undefined, cropFaces, waitSeconds: waitS, retries, fileTimeoutMs: timeoutS * 1000, onRetry: () => onRetry() });
      await remote.preflight();
      return remote;
    };

    const stats = await analyze({ inputs, out: v.out, format, concurrency, summary: Boolean(v.summary), quiet: Boolean(v.quiet), backend });
    if (v.summary) {
      // With rows on stdout the summary goes to stderr, so the CSV stays clean.
      const toStdout = v.out !== undefined && v.out !== '-';
      (toStdout ? process.stdout : process.stderr).write(formatSummary(stats));
    }
    const throttled = stats.counts.throttled ?? 0;
    if (throttled > 0) {
      process.stderr.write(`dfd: ${throttled} file(s) were not analysed: the server kept answering 429 (rate or queue limits) until their retries or --timeout ran out. Their rows say so; re-run them, or use an API key with a higher limit.\n`);
      return 3;
    }
    return 0;
  } catch (err) {
    if (err instanceof FatalError) {
      process.stderr.write(`dfd: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`dfd: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (invokedDirectly) {
  // `npm run dfd -- analyze ./photos` runs in the repository; the user's paths are from where they typed it.
  if (process.env.npm_lifecycle_event === 'dfd' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  const code = await main(process.argv.slice(2));
  // Exit once stdout has drained (large CSV on a pipe); keep-alive sockets and onnxruntime
  // threads would otherwise hold the process open.
  process.stdout.write('', () => process.exit(code));
}
