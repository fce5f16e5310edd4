#!/usr/bin/env node
// The project's summary of a k6 run, next to k6's standard one:
//   k6 run --summary-export /tmp/k6-users-500.json loadtest/k6/users-500.js
//   node loadtest/scripts/k6-report.mjs users-500 /tmp/k6-users-500.json [outDir] [baseUrl]
// prints the Markdown and writes summary-<name>.md and summary-<name>.json (handleSummary's layout)
// into outDir (default: the export's folder). Exit code 1 when a threshold failed.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fromExport, summaryMarkdown } from '../k6/summary.js';

const [name, file, outDir = dirname(file ?? '.'), baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:8080'] = process.argv.slice(2);
if (!name || !file) {
  console.error('usage: node loadtest/scripts/k6-report.mjs <scenario name> <k6 --summary-export file> [outDir] [baseUrl]');
  process.exit(2);
}
const data = fromExport(JSON.parse(readFileSync(file, 'utf8')));
const md = summaryMarkdown(name, data, { baseUrl });
writeFileSync(join(outDir, `summary-${name}.md`), md);
writeFileSync(join(outDir, `summary-${name}.json`), JSON.stringify(data, null, 2));
process.stdout.write(md);
const failed = Object.values(data.metrics).some((m) => Object.values(m.thresholds ?? {}).some((t) => !t.ok));
process.exit(failed ? 1 : 0);
