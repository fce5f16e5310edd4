/** Helpers for the CLI tests: a sample folder, running the built binary, reading its CSV. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { repoRoot } from '@dfd/test-support/processes';

export const cliPath = join(repoRoot, 'tools', 'cli', 'dist', 'main.js');

/** Good and bad files, one nested two levels down. Returns the expected verdict or error per relative path. */
export async function writeSampleFolder(dir: string): Promise<Record<string, string>> {
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'red.jpg'), await colourImage('jpeg', RED, 120, 21));
  writeFileSync(join(dir, 'blue.png'), await colourImage('png', BLUE, 100, 22));
  writeFileSync(join(dir, 'nested', 'red.webp'), await colourImage('webp', RED, 90, 23));
  writeFileSync(join(dir, 'nested', 'deeper', 'photo-without-extension'), await colourImage('jpeg', BLUE, 80, 24));
  writeFileSync(join(dir, 'notes.txt'), 'not an image\n');
  writeFileSync(join(dir, 'text-named.png'), 'plain text wearing a .png name');
  const jpg = await colourImage('jpeg', RED, 256, 25);
  writeFileSync(join(dir, 'nested', 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  writeFileSync(join(dir, '.hidden.jpg'), 'skipped: hidden');
  return {
    'blue.png': 'real',
    'nested/deeper/photo-without-extension': 'real',
    'nested/red.webp': 'edited',
    'nested/truncated.jpg': 'error:422 corrupt_image',
    'notes.txt': 'error:not_an_image',
    'red.jpg': 'edited',
    'text-named.png': 'error:415 unsupported_media_type',
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, DFD_API_KEY: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A small RFC 4180 reader (quoted fields, doubled quotes). */
export function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field || record.length) records.push([...record, field]);
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

/** Relative path → verdict, or "error:<start of the error>" for error rows. */
export function outcomes(rows: Array<Record<string, string>>, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const rel = r.path!.startsWith(base) ? r.path!.slice(base.length + 1) : r.path!;
    // Errors compare by status and code: libvips words the same failure differently from run to run.
    out[rel] = r.error ? `error:${r.error.split(':')[0]}` : r.verdict!;
  }
  return out;
}
