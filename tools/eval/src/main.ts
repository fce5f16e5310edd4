#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { loadDataset } from './dataset.js';
import { evaluate } from './evaluate.js';
import { TRANSFORMS } from './transforms.js';
import { compareScores, comparisonMarkdown, readScores } from './compare.js';
import { rocPng, scoresCsv, toMarkdown } from './report.js';

const usage = `usage: npm run eval -- --data DIR [--data DIR2 ...] [--out PREFIX] [--split-file FILE --split test] [--robustness] [--no-crop] [--limit N] [--models DIR]
       npm run eval -- --compare A-scores.csv --compare B-scores.csv [--out PREFIX]

  --data DIR        <label>/<source>/*.jpg, or a folder with manifest.csv (file,label,source[,mask]); repeatable
  --robustness      also judge every image flipped, re-encoded at JPEG q75, at half size, and on a canvas twice
                    the size (plain and busy): verdict flip rate and median |score change| per source
  --out PREFIX      writes PREFIX.json, PREFIX.md, PREFIX-roc.png and PREFIX-scores.csv (every image's served
                    score and verdict, also under each transform) (default: artifacts/eval/report)
  --split-file F    CSV (file,split) restricting the data to one split (--split, default test)
  --no-crop         judge whole images (no face stage); default crops faces when the face models exist
  --limit N         at most N images per source
  --models DIR      models folder (default: the repository's models/)
  --compare FILE    twice: two eval runs' PREFIX-scores.csv on the same images; prints each edited source's AUC
                    under both, the difference and its 95 % interval from a paired bootstrap over the
                    manifests' groups; writes PREFIX.json and PREFIX.md (default: artifacts/eval/compare)
  --domains FILE    JSON {domains: {edited source: [its own domain's real sources]}} for the per-source AUC
                    against own-domain reals (default: training/models/source-domains.json)`;

const { values } = parseArgs({
  options: {
    data: { type: 'string', multiple: true },
    robustness: { type: 'boolean', default: false },
    out: { type: 'string' },
    compare: { type: 'string', multiple: true },
    'split-file': { type: 'string' },
    split: { type: 'string', default: 'test' },
    'no-crop': { type: 'boolean', default: false },
    limit: { type: 'string' },
    models: { type: 'string' },
    threads: { type: 'string' },
    domains: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.compare) {
  if (values.compare.length !== 2) {
    console.error('--compare takes two scores files (--compare A-scores.csv --compare B-scores.csv)');
    process.exit(2);
  }
  const [a, b] = values.compare.map((f) => resolve(f)) as [string, string];
  for (const f of [a, b]) {
    if (!existsSync(f)) {
      console.error(`--compare ${f}: no such file`);
      process.exit(2);
    }
  }
  const comparison = compareScores(readScores(a), readScores(b), { a: basename(a), b: basename(b) });
  const out = resolve(values.out ?? 'artifacts/eval/compare');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, JSON.stringify(comparison, null, 2));
  writeFileSync(`${out}.md`, comparisonMarkdown(comparison));
  console.log(comparisonMarkdown(comparison));
  console.log(`wrote ${out}.json, ${out}.md`);
  process.exit(0);
}
if (values.help || !values.data?.length) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const modelsDir = resolve(values.models ?? join(root, 'models'));
const samples = values.data.flatMap((d) => loadDataset(resolve(d), { splitFile: values['split-file'], split: values.split, limitPerSource: values.limit ? Number(values.limit) : undefined }));
if (samples.length === 0) {
  console.error(`no labelled images found under ${values.data}`);
  process.exit(1);
}
const domainsFile = resolve(values.domains ?? join(root, 'training/models/source-domains.json'));
if (values.domains && !existsSync(domainsFile)) {
  console.error(`--domains ${domainsFile}: no such file`);
  process.exit(2);
}
const domains = existsSync(domainsFile) ? (JSON.parse(readFileSync(domainsFile, 'utf8')) as { domains: Record<string, string[]> }).domains : undefined;
const threads = values.threads ? Number(values.threads) : Math.max(1, Math.min(4, availableParallelism()));
let last = 0;
const { report, roc, rows } = await evaluate(samples, {
  modelsDir,
  cropFaces: !values['no-crop'],
  threads,
  concurrency: 8,
  datasetName: values.data.map((d) => basename(resolve(d))).join(' + '),
  transforms: values.robustness ? [...TRANSFORMS] : [],
  domains,
  split: values['split-file'] ? values.split : null,
  onProgress: (done, total) => {
    if (done === total || Date.now() - last > 2000) {
      last = Date.now();
      process.stderr.write(`\r${done}/${total} images`);
    }
  },
});
process.stderr.write('\n');
const out = resolve(values.out ?? 'artifacts/eval/report');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.json`, JSON.stringify(report, null, 2));
writeFileSync(`${out}.md`, toMarkdown(report));
writeFileSync(`${out}-scores.csv`, scoresCsv(rows));
writeFileSync(`${out}-roc.png`, await rocPng([{ name: 'detector', points: roc, auc: report.detector.overall.roc_auc }]));
console.log(toMarkdown(report));
console.log(`\nwrote ${out}.json, ${out}.md, ${out}-roc.png`);
