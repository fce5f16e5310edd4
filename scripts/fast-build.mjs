// The quick build behind `npm start`: every workspace project's src/**/*.ts transpiled to dist/
// with esbuild (no type-check, no bundling: the same files tsc would write, in about a second
// instead of minutes on a small machine). `npm run build` and `npm test` type-check with `tsc -b`.
// A project is rebuilt only when one of its sources is newer than its last build.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push({ path: p, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Projects listed in the root tsconfig's references, in that (dependency) order. */
function projects(root) {
  const refs = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).references ?? [];
  return refs.map((r) => join(root, r.path)).filter((p) => existsSync(join(p, 'src')));
}

/** @returns {Promise<string[]>} the projects it rebuilt */
export async function fastBuild(root) {
  const { build } = await import('esbuild');
  const rebuilt = [];
  for (const dir of projects(root)) {
    const files = sources(join(dir, 'src'));
    const stamp = join(dir, 'dist', '.fast-build');
    const tsbuildinfo = join(dir, 'tsconfig.tsbuildinfo');
    const builtAt = Math.max(existsSync(stamp) ? statSync(stamp).mtimeMs : 0, existsSync(tsbuildinfo) && existsSync(join(dir, 'dist')) ? statSync(tsbuildinfo).mtimeMs : 0);
    if (files.length === 0 || files.every((f) => f.mtimeMs <= builtAt)) continue;
    await build({
      entryPoints: files.map((f) => f.path),
      outdir: join(dir, 'dist'),
      outbase: join(dir, 'src'),
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      bundle: false,
      logLevel: 'warning',
    });
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    rebuilt.push(relative(root, dir));
  }
  return rebuilt;
}
