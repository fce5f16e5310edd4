#!/usr/bin/env node
// `npm run bench [-- --jobs N ...]`: runs loadtest/src/bench.ts (TypeScript through tsx) after
// dev.mjs has built the services. Flags: see loadtest/README.md.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', 'loadtest/src/bench.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: process.env });
process.exit(r.status ?? 1);
