import { readFileSync } from 'node:fs';
import { csvTable } from './csv.js';
import { aucSubsets, groupBootstrap, groupOrImage, percentileInterval, weightedAuc, type WeightedStatistic } from './bootstrap.js';

/** One line of an eval's PREFIX-scores.csv. */
export interface ScoreLine {
  file: string;
  label: string;
  source: string;
  group: string;
  edited: number;
}

/** Reads PREFIX-scores.csv. Files written before the group column get every image as its own group. */
export function readScores(path: string): ScoreLine[] {
  const { header: cols, rows } = csvTable(readFileSync(path, 'utf8'));
  const [file, label, source, group, edited] = ['file', 'label', 'source', 'group', 'edited'].map((name) => cols.indexOf(name)) as [number, number, number, number, number];
  for (const [name, at] of [['file', file], ['label', label], ['source', source], ['edited', edited]] as const) {
    if (at < 0) throw new Error(`${path}: no "${name}" column (not an eval scores file)`);
  }
  return rows.map((c) => ({ file: c[file]!, label: c[label]!, source: c[source]!, group: groupOrImage(c[file]!, group >= 0 ? c[group] : undefined), edited: Number(c[edited]) }));
}

export interface SourceComparison {
  /** Edited images of the source (all edited images for `all`) judged by both, against the reals both judged. */
  n: number;
  auc_a: number | null;
  auc_b: number | null;
  /** auc_b − auc_a, and its 95 % interval from the paired group bootstrap. */
  delta: number | null;
  interval: [number, number] | null;
  /** The interval excludes 0: a difference the data support, not one resampling makes either way. */
  decided: boolean;
}

export interface Comparison {
  a: string;
  b: string;
  images: number;
  groups: number;
  resamples: number;
  /** Images in only one of the two files, left out. */
  unmatched: number;
  per_source: Record<string, SourceComparison>;
}

/**
 * Two models' scores on the same images, compared per edited source (AUC against all reals) and
 * overall. Both are judged on every resample's one draw of groups, so what the two share (the
 * same hard images) cancels, and the interval is the difference's own.
 */
export function compareScores(a: ScoreLine[], b: ScoreLine[], names: { a: string; b: string }, opts: { resamples?: number; seed?: number } = {}): Comparison {
  const key = (l: ScoreLine) => `${l.source}\u0000${l.file}`;
  const inB = new Map(b.map((l) => [key(l), l]));
  const rows = a.flatMap((l) => {
    const other = inB.get(key(l));
    return other ? [{ line: l, a: l.edited, b: other.edited }] : [];
  });
  const y = rows.map((r) => (r.line.label === 'real' ? 0 : 1));
  const sa = rows.map((r) => r.a);
  const sb = rows.map((r) => r.b);
  const subsets = aucSubsets(rows.map((r) => r.line));
  // Each subset's rows sorted once per model: the point AUCs (unit weights) and every resample reuse them.
  const ones = new Float64Array(rows.length).fill(1);
  const aucs = Object.fromEntries(Object.entries(subsets).map(([name, index]) => [name, [weightedAuc(sa, y, index), weightedAuc(sb, y, index)] as const]));
  const stats: Record<string, WeightedStatistic> = Object.fromEntries(Object.entries(aucs).map(([name, [fa, fb]]) => [name, (w: Float64Array) => {
    const va = fa(w);
    const vb = fb(w);
    return va === null || vb === null ? null : vb - va;
  }]));
  const resamples = opts.resamples ?? 1000;
  const draws = groupBootstrap(rows.map((r) => r.line.group), stats, { resamples, seed: opts.seed });
  const perSource: Record<string, SourceComparison> = {};
  for (const [name, index] of Object.entries(subsets)) {
    const [fa, fb] = aucs[name]!;
    const aucA = fa(ones);
    const aucB = fb(ones);
    const interval = percentileInterval(draws[name]!);
    perSource[name] = {
      n: index.filter((i) => y[i] === 1).length,
      auc_a: aucA,
      auc_b: aucB,
      delta: aucA === null || aucB === null ? null : aucB - aucA,
      interval,
      decided: interval !== null && (interval[0] > 0 || interval[1] < 0),
    };
  }
  return {
    a: names.a,
    b: names.b,
    images: rows.length,
    groups: new Set(rows.map((r) => r.line.group)).size,
    resamples,
    unmatched: a.length + b.length - 2 * rows.length,
    per_source: perSource,
  };
}

export function comparisonMarkdown(c: Comparison): string {
  const f = (v: number | null, signed = false) => (v === null ? 'n/a' : `${signed && v >= 0 ? '+' : ''}${v.toFixed(3)}`);
  return [
    `# ${c.b} against ${c.a}`,
    '',
    `${c.images} images judged by both (${c.unmatched} in only one, left out), ${c.groups} groups. Δ = B − A; its 95 % interval ` +
      `from ${c.resamples} paired resamples of the groups (both models judged on each draw). "yes": the interval excludes 0.`,
    '',
    '| source | edited images | AUC A | AUC B | Δ | 95 % interval | a difference? |',
    '|---|---|---|---|---|---|---|',
    ...Object.entries(c.per_source).map(([s, m]) =>
      `| ${s} | ${m.n} | ${f(m.auc_a)} | ${f(m.auc_b)} | ${f(m.delta, true)} | ${m.interval ? `${f(m.interval[0], true)} to ${f(m.interval[1], true)}` : 'n/a'} | ${m.decided ? 'yes' : 'no'} |`),
    '',
  ].join('\n');
}
