/** The quick build behind `npm start`: esbuild transpiles each project's src to dist, and only what changed. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@dfd/test-support/processes';

describe('scripts/fast-build.mjs', () => {
  it('writes runnable dist/*.js for every referenced project, then rebuilds only a changed one', async () => {
    const { fastBuild } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'fast-build.mjs')).href)) as { fastBuild: (root: string) => Promise<string[]> };
    const root = mkdtempSync(join(tmpdir(), 'dfd-fast-build-'));
    try {
      writeFileSync(join(root, 'package.json'), '{"type":"module"}');
      writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: 'packages/a' }, { path: 'services/b' }] }));
      mkdirSync(join(root, 'packages/a/src/sub'), { recursive: true });
      mkdirSync(join(root, 'services/b/src'), { recursive: true });
      writeFileSync(join(root, 'packages/a/src/sub/twice.ts'), 'export const twice = (n: number): number => n * 2;\n');
      writeFileSync(join(root, 'packages/a/src/index.ts'), "import type { Buffer } from 'node:buffer';\nexport { twice } from './sub/twice.js';\nexport type B = Buffer;\n");
      writeFileSync(join(root, 'services/b/src/main.ts'), "import { twice } from '../../../packages/a/dist/index.js';\nenum E { A = 21 }\nconsole.log(String(twice(E.A)));\n");
      assert.deepEqual(await fastBuild(root), ['packages/a', 'services/b']);
      assert.equal(execFileSync(process.execPath, [join(root, 'services/b/dist/main.js')], { encoding: 'utf8' }).trim(), '42');
      assert.deepEqual(await fastBuild(root), [], 'nothing changed: nothing rebuilt');
      const later = new Date(Date.now() + 5_000);
      utimesSync(join(root, 'services/b/src/main.ts'), later, later);
      assert.deepEqual(await fastBuild(root), ['services/b']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
