import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { csvRecords } from './csv.js';

export interface Sample {
  path: string;
  file: string;
  label: 'real' | 'deepfake' | 'retouched';
  source: string;
  /** Edit mask (white = edited pixels) of a paired synthetic sample. */
  mask?: string;
  /** What the image shares a source of variation with (video, sitter): the manifest's `group`. */
  group?: string;
}

const LABELS = new Set(['real', 'deepfake', 'retouched']);
const IMAGE = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

/** A dataset folder's manifest.csv as records keyed by its header (file, label, source, ...). */
export function manifestRecords(dir: string): Array<Record<string, string>> {
  return csvRecords(readFileSync(join(dir, 'manifest.csv'), 'utf8'));
}

/**
 * Reads a dataset laid out as <label>/<source>/<image>, or described by a manifest.csv
 * (file,label,source[,mask][,group]). A split file (file,split) restricts it to one split.
 */
export function loadDataset(dir: string, opts: { splitFile?: string; split?: string; limitPerSource?: number } = {}): Sample[] {
  let samples: Sample[] = [];
  const manifest = join(dir, 'manifest.csv');
  if (existsSync(manifest)) {
    samples = manifestRecords(dir)
      .filter((r) => LABELS.has(r.label!))
      .map((r) => ({ path: join(dir, r.file!), file: r.file!, label: r.label as Sample['label'], source: r.source!, ...(r.mask ? { mask: join(dir, r.mask) } : {}), ...(r.group ? { group: r.group } : {}) }));
  } else {
    for (const label of readdirSync(dir)) {
      if (!LABELS.has(label) || !statSync(join(dir, label)).isDirectory()) continue;
      for (const source of readdirSync(join(dir, label))) {
        const sdir = join(dir, label, source);
        if (!statSync(sdir).isDirectory()) continue;
        for (const f of readdirSync(sdir).sort()) {
          if (IMAGE.test(f)) samples.push({ path: join(sdir, f), file: relative(dir, join(sdir, f)), label: label as Sample['label'], source });
        }
      }
    }
  }
  if (opts.splitFile) {
    const wanted = opts.split ?? 'test';
    // A split file over several datasets names each file as dataset,file (dataset = folder name).
    const name = basename(dir);
    const keep = new Set(csvRecords(readFileSync(opts.splitFile, 'utf8')).filter((r) => r.split === wanted && (!r.dataset || r.dataset === name)).map((r) => r.file));
    samples = samples.filter((s) => keep.has(s.file));
  }
  if (opts.limitPerSource) {
    const seen = new Map<string, number>();
    samples = samples.filter((s) => {
      const n = seen.get(s.source) ?? 0;
      seen.set(s.source, n + 1);
      return n < opts.limitPerSource!;
    });
  }
  return samples;
}
