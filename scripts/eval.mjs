#!/usr/bin/env node
// `npm run eval -- --data DIR [--out PREFIX] ...`: evaluates the shipped models with the serving code.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../tools/eval/dist/main.js', import.meta.url));
const r = spawnSync(process.execPath, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
