/**
 * How precise an AUC is, and whether two models' AUCs differ: a bootstrap over groups.
 *
 * A test split's images are not independent: DFDC frames come from the same video, studio
 * portraits from the same sitter, so resampling single images would claim a precision the data do
 * not have. Each resample draws whole groups (the manifests' `group` column; an image without one
 * is its own group) with replacement, and every statistic is judged on that one draw, so per-source
 * figures and two models' figures (a paired comparison) move together.
 */

/** A statistic of the rows, given each row's weight in one resample (how often its group was drawn). */
export type WeightedStatistic = (weights: Float64Array) => number | null;

/** Seeded uniform [0, 1) (mulberry32): a report is the same every time it is made from the same scores. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * ROC AUC of `index`'s rows (Mann–Whitney, ties half) with each row counted by its weight. The rows
 * are sorted once; each call is one pass. With every weight 1 it is `rocAuc` of those rows.
 */
export function weightedAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, index: number[]): WeightedStatistic {
  const order = [...index].sort((a, b) => scores[a]! - scores[b]!);
  return (w) => {
    let negBelow = 0;
    let pos = 0;
    let neg = 0;
    let sum = 0;
    for (let i = 0; i < order.length; ) {
      let j = i;
      let blockPos = 0;
      let blockNeg = 0;
      while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
        const r = order[j]!;
        if (labels[r] === 1) blockPos += w[r]!;
        else blockNeg += w[r]!;
        j++;
      }
      sum += blockPos * (negBelow + blockNeg / 2);
      negBelow += blockNeg;
      pos += blockPos;
      neg += blockNeg;
      i = j;
    }
    return pos > 0 && neg > 0 ? sum / (pos * neg) : null;
  };
}

/** The group an image is resampled with: its manifest group, or the image alone when it has none. */
export const groupOrImage = (file: string, group?: string): string => group || `image:${file}`;

/**
 * The rows each AUC is judged on: `all` of them, and per edited source its own rows beside every
 * real (the per-source AUC against all reals), sources in name order.
 */
export function aucSubsets(rows: Array<{ label: string; source: string }>): Record<string, number[]> {
  const reals = rows.flatMap((r, i) => (r.label === 'real' ? [i] : []));
  const subsets: Record<string, number[]> = { all: rows.map((_, i) => i) };
  for (const source of [...new Set(rows.filter((r) => r.label !== 'real').map((r) => r.source))].sort()) {
    subsets[source] = [...rows.flatMap((r, i) => (r.source === source ? [i] : [])), ...reals];
  }
  return subsets;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
}

/**
 * Draws `resamples` group resamples and returns, per statistic, its value on each (null where a
 * resample left the statistic undefined, e.g. no edited image of a source drawn).
 */
export function groupBootstrap(groups: string[], statistics: Record<string, WeightedStatistic>, opts: BootstrapOptions = {}): Record<string, Array<number | null>> {
  const resamples = opts.resamples ?? 1000;
  const next = uniform(opts.seed ?? 1);
  const ids = new Map<string, number>();
  const groupOf = Int32Array.from(groups, (g) => {
    let id = ids.get(g);
    if (id === undefined) ids.set(g, (id = ids.size));
    return id;
  });
  const nGroups = ids.size;
  const drawn = new Float64Array(nGroups);
  const weights = new Float64Array(groups.length);
  const out: Record<string, Array<number | null>> = Object.fromEntries(Object.keys(statistics).map((k) => [k, []]));
  for (let b = 0; b < resamples; b++) {
    drawn.fill(0);
    for (let k = 0; k < nGroups; k++) drawn[Math.floor(next() * nGroups)]! += 1;
    for (let i = 0; i < groups.length; i++) weights[i] = drawn[groupOf[i]!]!;
    for (const [name, stat] of Object.entries(statistics)) out[name]!.push(stat(weights));
  }
  return out;
}

/**
 * The central `level` interval of a statistic's resampled values (percentile method); null when
 * over a tenth of the resamples left it undefined (too few groups to say).
 */
export function percentileInterval(values: Array<number | null>, level = 0.95): [number, number] | null {
  const defined = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!defined.length || defined.length < 0.9 * values.length) return null;
  const at = (q: number) => defined[Math.min(defined.length - 1, Math.max(0, Math.round(q * (defined.length - 1))))]!;
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}
