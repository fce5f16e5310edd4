import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the stock k6 release lives beside the repository: ../shared/tools/k6/k6-v*-linux-amd64.xz. */
export const sharedK6Dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'tools', 'k6');

/**
 * A stock k6 binary: K6_BIN if set, else the xz-compressed release in ../shared/tools/k6 unpacked
 * with `xz -dc` into a temporary folder. Null when neither exists (k6 on PATH is not guessed: the
 * tests want the pinned release).
 */
export function findK6(): { bin: string; version: string } | null {
  let bin = process.env.K6_BIN;
  if (!bin) {
    const xz = existsSync(sharedK6Dir) ? readdirSync(sharedK6Dir).filter((f) => /^k6-v.*linux-amd64\.xz$/.test(f)).sort().at(-1) : undefined;
    if (!xz) return null;
    bin = join(mkdtempSync(join(tmpdir(), 'dfd-k6-bin-')), 'k6');
    const fd = openSync(bin, 'w');
    try {
      const r = spawnSync('xz', ['-dc', join(sharedK6Dir, xz)], { stdio: ['ignore', fd, 'pipe'] });
      if (r.status !== 0) throw new Error(`xz -dc ${xz} failed: ${r.error?.message ?? r.stderr.toString()}`);
    } finally {
      closeSync(fd);
    }
    chmodSync(bin, 0o755);
  }
  const v = spawnSync(bin, ['version'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`${bin} version failed: ${v.error?.message ?? v.stderr}`);
  return { bin, version: v.stdout.trim() };
}
