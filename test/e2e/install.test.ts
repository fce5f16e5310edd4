/**
 * A fresh `pnpm install` of this workspace (manifests and lockfile only, from the local store) is
 * quiet: no "Failed to create bin" for bins whose file is built later, no "Ignored build scripts
 * … pnpm approve-builds" box (pnpm-workspace.yaml says which install scripts are not needed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '@dfd/test-support/processes';

describe('fresh install', () => {
  it('prints no warnings and no approve-builds notice', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-install-'));
    try {
      const files = execFileSync('git', ['ls-files', 'package.json', '*/package.json', 'pnpm-workspace.yaml', 'pnpm-lock.yaml', '.npmrc', 'bin'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const f of files) {
        mkdirSync(join(dir, dirname(f)), { recursive: true });
        cpSync(join(repoRoot, f), join(dir, f));
      }
      const r = spawnSync('npx', ['-y', 'pnpm@10', 'install', '--offline', '--frozen-lockfile'], { cwd: dir, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', CI: '' } });
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.status, 0, out);
      assert.doesNotMatch(out, /WARN|Failed to create bin|Ignored build scripts|approve-builds/, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
